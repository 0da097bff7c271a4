// signingWorkflow: one signing from "send to Evrotrust" to exactly one final state.
//
//   check signers → send → wait (callback hints, status polling, deadline, withdraw) → confirm →
//   download + store signed files → finalize in MongoDB.
//
// The invariant: the run never ends, fails or gives up while the signing's record says `pending`.
// Every activity call goes through `retrying()`: a failure that is permanent for that step (a
// deliberate refusal by Evrotrust) ends the signing `failed` with a reason code; anything else is
// treated as transient, shown in the Web UI's current details and retried with backoff until the
// signing's deadline (plus `settleGraceMs` once it was sent). Only finalizing is retried forever:
// the record must say what happened before the run may end.
//
// A callback is only a hint: every status is confirmed with /document/status before it counts.
// No personal data passes through here (it stays in MongoDB; activities read it by signing id),
// because everything a workflow sees is written into Temporal's history.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  metricMeter,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { signingStatusKey, transactionIdKey } from './search-attributes';
import {
  evrotrustCallbackSignal,
  resendOtpUpdate,
  SETTLED_SIGNER_STATUSES,
  signerStatusOf,
  statusQuery,
  submitOtpUpdate,
  withdrawSignal,
  type EvrotrustCallback,
  type FailureCode,
  type OtpResult,
  type SigningStatus,
  type SigningView,
  type SigningWorkflowInput,
} from './definitions';
import { outcomeOf, type EndReason, type Outcome } from './outcome';
import type { StatusName } from '../src/evrotrust/statuses';

// Activities retry a few times on their own (a worker that died mid-call, a brief blip); longer
// trouble comes back here, where retrying() waits with timers that a withdraw or the deadline can cut.
const quick = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});
// The send carries the document; its own logic makes a retry safe (it never sends twice).
const transfer = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
});
// Reads from Evrotrust that the user waits on (OTP): fail fast, the caller can try again.
const interactive = proxyActivities<Activities>({
  startToCloseTimeout: '45s',
  retry: { maximumAttempts: 2, initialInterval: '1s' },
});

/** Refusals that no retry can change, whichever step met them: the signing ends `failed`. */
const PERMANENT = new Set([
  'invalid-data', // 400
  'user-not-found', // 438
  'no-certificate', // 442
  'user-data-invalid', // 449
  'file-too-large', // 450
  'wrong-coverage', // 454
  'unsupported-file-type', // 457
  'unknown-provider-error', // 468 and other undocumented 4xx
  'invalid-request', // refused by our client before sending
  'invalid-signer',
  'send-outcome-unknown', // a resend could reach the signer twice
  'decrypt-failed',
  'download-too-large', // the signed download exceeds a configured cap: the same answer every time
]);
/** The record is gone or already final (a repair raced this run): nothing is left for this run to do. */
const NOTHING_TO_DO = new Set(['signing-not-found', 'signing-already-final']);

const MAX_BACKOFF_MS = 5 * 60_000;
const DEFAULT_SETTLE_GRACE_MS = 24 * 3600_000;
/** NOTIFY_GIVE_UP_AFTER's default: the final-state notification is retried this long (a receiver down over a weekend). */
const DEFAULT_NOTIFY_GIVE_UP_MS = 3 * 86_400_000;

/** The failure type an activity gave (its ApplicationFailure type), for a reason the caller can act on. */
function failureType(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.type ?? 'activity-failed';
  if (err instanceof ApplicationFailure) return err.type ?? 'activity-failed';
  return 'activity-failed';
}

/** The threadID an activity's failure carries (a send Evrotrust accepted but answered oddly). */
function threadIdOf(err: unknown): string | null {
  const details = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.details : undefined;
  const first = details?.[0] as { threadID?: unknown } | undefined;
  return typeof first?.threadID === 'string' ? first.threadID : null;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; code: string; permanent: boolean; cause: unknown };

const stepRetries = metricMeter.createCounter('signing_step_retries', 'retries', 'activity failures a signing retried instead of failing');

export async function signingWorkflow(input: SigningWorkflowInput): Promise<SigningView> {
  const view: SigningView = {
    signingId: input.signingId,
    status: 'pending',
    method: input.method,
    threadId: input.resume?.threadId ?? null,
    signers:
      input.resume?.signers ?? Array.from({ length: input.signerCount }, () => ({ transactionId: null, status: 'pending' as const })),
  };
  const signingId = input.signingId;
  const hints: EvrotrustCallback[] = [];
  const seenHints = new Set<string>();
  let withdrawRequested = input.resume?.withdrawRequested ?? false;
  let sent = input.resume !== undefined;
  const deadline = input.expiresAt + input.expiryGraceMs;
  const settleBy = deadline + (input.settleGraceMs ?? DEFAULT_SETTLE_GRACE_MS);

  const publish = () => {
    upsertSearchAttributes([
      { key: signingStatusKey, value: view.status },
      ...(view.signers[0]?.transactionId ? [{ key: transactionIdKey, value: view.signers[0].transactionId }] : []),
    ]);
    const rows = view.signers.map((s, i) => `| ${i + 1} | ${s.transactionId ?? '—'} | ${s.status} |`).join('\n');
    const problem = view.problem
      ? `\n\n**Retrying:** ${view.problem.step} failed ${view.problem.attempts}× (${view.problem.code}) since ${new Date(view.problem.since).toISOString()}`
      : '';
    setCurrentDetails(
      `**Status:** ${view.status}${view.failure ? ` (${view.failure})` : ''}  \n**Method:** ${view.method}  \n` +
        `**Thread:** ${view.threadId ?? '—'}\n\n| signer | transaction | status |\n| --- | --- | --- |\n${rows}${problem}`,
    );
  };

  /**
   * Runs an activity until it succeeds, its failure is permanent for this step, `until` passes, or
   * `interrupt()` turns true. In between: backoff timers, the problem shown in the Web UI and logged.
   */
  async function retrying<T>(
    step: string,
    call: () => Promise<T>,
    opts: { until: number; permanent?: ReadonlySet<string>; interrupt?: () => boolean },
  ): Promise<Attempt<T>> {
    const permanent = opts.permanent ?? PERMANENT;
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await call();
        if (view.problem?.step === step) {
          view.problem = undefined;
          publish();
        }
        return { ok: true, value };
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        const code = failureType(err);
        if (NOTHING_TO_DO.has(code) || permanent.has(code)) return { ok: false, code, permanent: true, cause: err };
        view.problem = { step, code, attempts: attempt, since: view.problem?.step === step ? view.problem.since : Date.now() };
        // Each publish is a history event: show the streak's start, then every tenth attempt.
        if (attempt === 1 || attempt % 10 === 0) publish();
        stepRetries.add(1, { step, code });
        log.warn('signing step failed; retrying', { signingId, step, code, attempt });
        const now = Date.now();
        if (now >= opts.until) return { ok: false, code, permanent: false, cause: err };
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempt - 1, 20), opts.until - now);
        if (opts.interrupt) {
          if (await condition(opts.interrupt, delay)) return { ok: false, code, permanent: false, cause: err };
        } else {
          await sleep(delay);
        }
      }
    }
  }

  setHandler(statusQuery, () => view);
  setHandler(evrotrustCallbackSignal, (cb) => {
    const key = `${cb.transactionID}:${cb.status}`;
    if (seenHints.has(key)) return; // a repeated callback changes nothing
    seenHints.add(key);
    hints.push(cb);
  });
  setHandler(withdrawSignal, () => {
    withdrawRequested = true;
  });
  setHandler(
    submitOtpUpdate,
    async ({ code }): Promise<OtpResult> => {
      const transactionId = view.signers[0]?.transactionId as string;
      const result = await interactive.activateOtp({ signingId, transactionId, code });
      if (result.accepted) hints.push({ transactionID: transactionId, status: 0 }); // ask Evrotrust now
      return result;
    },
    {
      validator: ({ code }) => {
        if (input.method !== 'otp') throw new Error('this signing does not use OTP codes');
        if (view.status !== 'pending') throw new Error(`the signing is already ${view.status}`);
        if (!sent) throw new Error('the document is still being sent; try again in a moment');
        if (typeof code !== 'string' || !/^\d{4,8}$/.test(code)) throw new Error('code must be the 4 to 8 digits of the SMS');
      },
    },
  );
  setHandler(
    resendOtpUpdate,
    async () => {
      await interactive.resendOtp({ signingId, transactionId: view.signers[0]?.transactionId as string });
    },
    {
      validator: () => {
        if (input.method !== 'otp') throw new Error('this signing does not use OTP codes');
        if (view.status !== 'pending' || !sent)
          throw new Error(`the signing is ${view.status === 'pending' ? 'still being sent' : `already ${view.status}`}`);
      },
    },
  );

  /** Writes the final state; retried until the store takes it, because the record must not stay pending. */
  const finish = async (status: Exclude<SigningStatus, 'pending'>, failure?: FailureCode, detail?: string): Promise<SigningView> => {
    const r = await retrying(
      'finalize',
      () => quick.finalizeSigning({ signingId, status, failure: failure ?? null, detail: detail ?? null }),
      {
        until: Number.POSITIVE_INFINITY,
        permanent: new Set(),
      },
    );
    if (r.ok) {
      view.status = r.value.status;
      // Another run may have finalized the record first, with its own reason.
      if (failure && r.value.status === status) view.failure = failure;
    }
    publish();
    log.info('signing final', { signingId, status: view.status, failure: view.failure });
    // Runs recorded before notifications existed ended right here; replaying them must still do so.
    if (patched('notify-final-state')) await notifyFinalState();
    return view;
  };

  /**
   * After the final state is stored: POST it to the signing's notify URL, if it has one (an activity
   * says yes or no; the URL never enters this history). Temporal retries the delivery with backoff
   * until a 2xx or the give-up bound; either way the signing's final state stays what it is.
   */
  const notifyFinalState = async (): Promise<void> => {
    const giveUpAfterMs = input.notifyGiveUpAfterMs ?? DEFAULT_NOTIFY_GIVE_UP_MS;
    const giveUpAt = Date.now() + giveUpAfterMs;
    const wanted = await retrying('notify-check', () => quick.notificationWanted({ signingId }), {
      until: giveUpAt,
      permanent: NOTHING_TO_DO,
    });
    if (!wanted.ok || !wanted.value) return;
    const notify = proxyActivities<Activities>({
      startToCloseTimeout: '30s', // one attempt: a 10 s request and two store writes
      scheduleToCloseTimeout: giveUpAfterMs,
      retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 hour' },
    });
    try {
      await notify.notifyFinalState({ signingId });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // TIMEOUT: the give-up bound passed (the server ends the retries before a next one would cross it).
      const elapsed = err.retryState === 'TIMEOUT' || err.cause instanceof TimeoutFailure;
      const reason = elapsed ? 'give-up-after-elapsed' : failureType(err);
      log.warn('signing notification given up', { signingId, reason });
      await retrying('notify-given-up', () => quick.recordNotificationGivenUp({ signingId, reason }), {
        until: Date.now() + 3600_000,
        permanent: NOTHING_TO_DO,
      });
    }
  };
  /** The record was final already or is gone (a repair run raced this one): end without touching it. */
  const stand = (): SigningView => {
    log.info('signing needs nothing more from this run', { signingId });
    return view;
  };

  publish();

  /** Withdraws the thread at Evrotrust; permanent refusals are logged (the statuses will tell). */
  const withdrawThread = async (threadId: string, until: number): Promise<string | undefined> => {
    const r = await retrying('withdraw', () => quick.withdrawThread({ signingId, threadId }), { until });
    if (!r.ok) log.warn('could not withdraw at Evrotrust', { signingId, code: r.code });
    return r.ok ? r.value : undefined;
  };

  // 1. Every signer must be able to sign in the Evrotrust app before we send anything.
  if (!sent && input.method === 'app') {
    const check = await retrying('check-signers', () => quick.checkSigners({ signingId }), {
      until: deadline,
      interrupt: () => withdrawRequested,
    });
    if (!check.ok) {
      if (NOTHING_TO_DO.has(check.code)) return stand();
      if (withdrawRequested) return finish('withdrawn');
      return finish('failed', check.permanent ? 'send-refused' : 'evrotrust-unavailable', check.code);
    }
    if (!check.value.ready) return finish('failed', 'signer-not-ready');
  }

  // 2. Send once. A send whose outcome is unknown is never retried (a signer could get two requests).
  if (!sent) {
    if (withdrawRequested) return finish('withdrawn');
    const send = await retrying('send', () => transfer.sendDocument({ signingId, method: input.method, expiresAt: input.expiresAt }), {
      until: deadline,
      interrupt: () => withdrawRequested,
    });
    if (!send.ok) {
      if (NOTHING_TO_DO.has(send.code)) return stand();
      // Evrotrust created a thread but its answer was unusable: take it back so nobody can sign it.
      const orphan = threadIdOf(send.cause);
      if (orphan) await withdrawThread(orphan, settleBy);
      if (withdrawRequested && !send.permanent) return finish('withdrawn');
      if (send.code === 'send-outcome-unknown') return finish('failed', 'send-outcome-unknown');
      return finish('failed', send.permanent ? 'send-refused' : 'evrotrust-unavailable', send.code);
    }
    const { threadId, transactionIds, recorded } = send.value;
    view.threadId = threadId;
    transactionIds.forEach((tx, i) => {
      const signer = view.signers[i];
      if (signer) signer.transactionId = tx;
    });
    sent = true;
    publish();
    // Evrotrust has it: the ids are in this history now, so a store outage cannot lose them.
    if (!recorded) {
      await retrying('record-sent', () => quick.recordSent({ signingId, threadId, transactionIds }), {
        until: Number.POSITIVE_INFINITY,
        permanent: NOTHING_TO_DO,
      });
    }
  }

  const ours = new Set(view.signers.map((s) => s.transactionId));
  const signerOf = (tx: string) => view.signers.find((s) => s.transactionId === tx);
  const unsettled = () => view.signers.filter((s) => !SETTLED_SIGNER_STATUSES.includes(s.status));
  /** Not yet signed (unsettled, and not "signed, processing"): these are the ones a withdraw takes back. */
  const waitingForSigner = () => unsettled().filter((s) => s.status !== 'processing');

  /** Takes Evrotrust's word for one transaction's signer; true if that changed the view. */
  const applyStatus = (transactionId: string, answer: { statusName: StatusName; isProcessing: boolean }): boolean => {
    const signer = signerOf(transactionId);
    const status = signerStatusOf(answer.statusName, answer.isProcessing);
    if (!signer || signer.status === status) return false;
    signer.status = status;
    return true;
  };

  /** Asks Evrotrust for one transaction's status; false when it could not be asked (retried later). */
  const confirm = async (transactionId: string, until: number): Promise<boolean> => {
    const r = await retrying('confirm-status', () => quick.confirmStatus({ signingId, transactionId }), {
      until,
      permanent: new Set(), // a status read is never a reason to end the signing
      interrupt: () => withdrawRequested && endReason === undefined,
    });
    if (!r.ok) return false;
    if (applyStatus(transactionId, r.value)) publish();
    return true;
  };

  /**
   * Asks Evrotrust about every transaction of the thread in one call (/document/thread/status);
   * answers the transactions it answered. One attempt (the activity retries briefly on its own):
   * whatever it could not answer is then asked one by one, so this can only save calls.
   */
  const confirmThread = async (threadId: string): Promise<string[]> => {
    let answers;
    try {
      answers = await quick.confirmThread({ signingId, threadId });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('thread status failed; asking per transaction', { signingId, code: failureType(err) });
      return [];
    }
    let changed = false;
    for (const a of answers) changed = applyStatus(a.transactionId, a) || changed;
    if (changed) publish();
    return answers.map((a) => a.transactionId);
  };

  // 3. Wait for the outcome.
  // A resumed run asks at once: hints that came in while the last run ended were not carried.
  let nextPoll = input.resume ? Date.now() : Date.now() + input.pollIntervalMs;
  let endReason: EndReason | undefined;
  /** Transactions confirmed since the end began: the end counts only once each is confirmed. */
  const confirmedSinceEnd = new Set<string>();
  /** Evrotrust took the withdraw (or had nothing left to withdraw): only then can "nobody signed" be final. */
  let withdrawTaken = false;
  const nothingToWithdraw = () => !view.threadId || waitingForSigner().length === 0;
  let outcome: Outcome | undefined;
  while (!outcome) {
    if (endReason === undefined && (withdrawRequested || Date.now() >= deadline)) {
      endReason = withdrawRequested ? 'withdrawn' : 'expired';
      nextPoll = Date.now();
    }
    if (endReason && !withdrawTaken && !nothingToWithdraw()) {
      // 443 here is Evrotrust not showing the thread yet, not "nothing to withdraw": ask again soon.
      const r = await withdrawThread(view.threadId as string, settleBy);
      withdrawTaken = r !== undefined && r !== 'not-found';
      if (!withdrawTaken) nextPoll = Math.min(nextPoll, Date.now() + Math.min(input.pollIntervalMs, 10_000));
    }

    // Which transactions to ask Evrotrust about: those a callback named, or all unsettled at poll time.
    const toCheck = new Set<string>();
    for (const h of hints.splice(0))
      if (ours.has(h.transactionID) && !SETTLED_SIGNER_STATUSES.includes(signerOf(h.transactionID)?.status ?? 'pending'))
        toCheck.add(h.transactionID);
    if (Date.now() >= nextPoll) {
      for (const s of unsettled()) if (s.transactionId) toCheck.add(s.transactionId);
      nextPoll = Date.now() + input.pollIntervalMs;
    }
    /** After asking about tx: an answer counts for the end, and a processing signer is asked again soon. */
    const asked = (tx: string, answered: boolean) => {
      if (answered && endReason) confirmedSinceEnd.add(tx);
      if (signerOf(tx)?.status === 'processing') nextPoll = Math.min(nextPoll, Date.now() + input.processingRecheckMs);
    };
    // Several to ask about (a poll, the end of a signing with several signers): one call for the thread.
    if (toCheck.size > 1 && view.threadId && patched('thread-status')) {
      for (const tx of await confirmThread(view.threadId)) if (toCheck.delete(tx)) asked(tx, true);
    }
    for (const tx of toCheck) asked(tx, await confirm(tx, endReason ? settleBy : deadline));

    const candidate = outcomeOf(view.signers, endReason);
    // At the end, "nobody signed" must be Evrotrust's word for every transaction, not our silence.
    const endConfirmed = view.signers.every(
      (s) => !s.transactionId || SETTLED_SIGNER_STATUSES.includes(s.status) || confirmedSinceEnd.has(s.transactionId),
    );
    if (candidate && (candidate.status !== endReason || (endConfirmed && (withdrawTaken || nothingToWithdraw())))) {
      outcome = candidate;
      break;
    }
    if (endReason && Date.now() >= settleBy) {
      outcome = { status: 'failed', failure: 'status-unconfirmed' };
      break;
    }

    // A signing can wait for days: keep the history small by continuing as new with what we know.
    const info = workflowInfo();
    if (endReason === undefined && (info.continueAsNewSuggested || info.historyLength > (input.continueAsNewAfterEvents ?? 4000))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof signingWorkflow>({
        ...input,
        resume: { threadId: view.threadId, signers: view.signers, withdrawRequested },
      });
    }

    const relevant = () => hints.some((h) => ours.has(h.transactionID));
    const wakeAt = endReason ? Math.min(nextPoll, settleBy) : Math.min(nextPoll, deadline);
    const now = Date.now();
    if (!relevant() && now < wakeAt) {
      await condition(() => relevant() || (withdrawRequested && endReason === undefined), wakeAt - now);
    }
  }

  // One signer's refusal ends the signing: take the request back from the others.
  if (outcome.status !== 'signed' && view.threadId && waitingForSigner().length > 0 && endReason === undefined) {
    await withdrawThread(view.threadId, Date.now() + 10 * 60_000);
  }

  // 4. All signed: download, decrypt and store every signed file before saying "signed".
  if (outcome.status === 'signed') {
    const until = Math.max(settleBy, Date.now() + 3600_000);
    for (const s of view.signers) {
      const stored = await retrying(
        'store-signed-document',
        () => transfer.storeSignedDocument({ signingId, transactionId: s.transactionId as string }),
        { until },
      );
      if (!stored.ok) {
        if (NOTHING_TO_DO.has(stored.code)) return stand();
        return finish(
          'failed',
          stored.code === 'download-too-large' ? 'signed-document-too-large' : 'signed-document-unavailable',
          stored.code,
        );
      }
    }
  }
  return finish(outcome.status, outcome.failure);
}

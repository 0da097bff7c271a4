// signingWorkflow: one signing from "send to Evrotrust" to exactly one final state.
//
//   check signers → send → wait (callback hints, status polling, deadline, withdraw) → confirm →
//   download + store signed files → finalize in MongoDB.
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
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { signingStatusKey, transactionIdKey } from './search-attributes';
import {
  evrotrustCallbackSignal,
  resendOtpUpdate,
  statusQuery,
  submitOtpUpdate,
  withdrawSignal,
  type EvrotrustCallback,
  type OtpResult,
  type SigningStatus,
  type SigningView,
  type SigningWorkflowInput,
} from './definitions';
import { outcomeOf, type Outcome } from './outcome';

// Short timeouts: when a worker dies mid-call, Temporal retries the call only after this timeout.
const quick = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
// The send carries the document; its own logic makes a retry safe (it never sends twice).
const transfer = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});
// Reads from Evrotrust that the user waits on (OTP): fail fast, the caller can try again.
const interactive = proxyActivities<Activities>({
  startToCloseTimeout: '45s',
  retry: { maximumAttempts: 2, initialInterval: '1s' },
});

/** The failure type an activity gave (its ApplicationFailure type), for a reason the caller can act on. */
function failureType(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.type ?? 'activity-failed';
  if (err instanceof ApplicationFailure) return err.type ?? 'activity-failed';
  return 'activity-failed';
}

export async function signingWorkflow(input: SigningWorkflowInput): Promise<SigningView> {
  const view: SigningView = {
    signingId: input.signingId,
    status: 'pending',
    method: input.method,
    threadId: input.resume?.threadId ?? null,
    signers: input.resume?.signers ?? Array.from({ length: input.signerCount }, () => ({ transactionId: null, status: 'pending' })),
  };
  const hints: EvrotrustCallback[] = [];
  const seenHints = new Set<string>();
  let withdrawRequested = input.resume?.withdrawRequested ?? false;
  let sent = input.resume !== undefined;

  const publish = () => {
    upsertSearchAttributes([
      { key: signingStatusKey, value: view.status },
      ...(view.signers[0]?.transactionId ? [{ key: transactionIdKey, value: view.signers[0].transactionId }] : []),
    ]);
    const rows = view.signers.map((s, i) => `| ${i + 1} | ${s.transactionId ?? '—'} | ${s.status} |`).join('\n');
    setCurrentDetails(
      `**Status:** ${view.status}${view.failure ? ` (${view.failure})` : ''}  \n**Method:** ${view.method}  \n` +
        `**Thread:** ${view.threadId ?? '—'}\n\n| signer | transaction | status |\n| --- | --- | --- |\n${rows}`,
    );
  };

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
      const result = await interactive.activateOtp({ signingId: input.signingId, transactionId, code });
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
      await interactive.resendOtp({ signingId: input.signingId, transactionId: view.signers[0]?.transactionId as string });
    },
    {
      validator: () => {
        if (input.method !== 'otp') throw new Error('this signing does not use OTP codes');
        if (view.status !== 'pending' || !sent) throw new Error(`the signing is ${view.status === 'pending' ? 'still being sent' : `already ${view.status}`}`);
      },
    },
  );

  const finish = async (status: SigningStatus, failure?: string): Promise<SigningView> => {
    await quick.finalizeSigning({ signingId: input.signingId, status, failure: failure ?? null });
    view.status = status;
    if (failure) view.failure = failure;
    publish();
    log.info('signing final', { signingId: input.signingId, status, failure });
    return view;
  };

  publish();

  // 1. Every signer must be able to sign in the Evrotrust app before we send anything.
  if (input.method === 'app' && !input.resume) {
    const check = await quick.checkSigners({ signingId: input.signingId });
    if (!check.ready) return finish('failed', 'signer-not-ready');
  }

  // 2. Send. A send whose outcome is unknown is never retried (a signer could get two requests).
  if (!input.resume) {
    try {
      const result = await transfer.sendDocument({ signingId: input.signingId, method: input.method, expiresAt: input.expiresAt });
      view.threadId = result.threadId;
      result.transactionIds.forEach((tx, i) => {
        const signer = view.signers[i];
        if (signer) signer.transactionId = tx;
      });
      sent = true;
    } catch (err) {
      return finish('failed', failureType(err));
    }
  }
  publish();

  const ours = new Set(view.signers.map((s) => s.transactionId));
  const signerOf = (tx: string) => view.signers.find((s) => s.transactionId === tx);
  const pendingSigners = () => view.signers.filter((s) => s.status === 'pending' || s.status === 'onHold' || s.status === 'unknown');

  const confirm = async (transactionId: string): Promise<boolean> => {
    const r = await quick.confirmStatus({ signingId: input.signingId, transactionId });
    const signer = signerOf(transactionId);
    if (signer && signer.status !== r.statusName) {
      signer.status = r.statusName === 'signed' && r.isProcessing ? 'pending' : r.statusName;
      publish();
    }
    return r.isProcessing;
  };

  /** Withdraws the thread at Evrotrust if anyone is still pending; false when Evrotrust says it is too late. */
  const withdrawAtEvrotrust = async (): Promise<boolean> => {
    if (pendingSigners().length === 0) return true;
    if (!view.threadId) return true; // OTP requests have no thread to withdraw; they lapse by themselves
    const r = await quick.withdrawThread({ signingId: input.signingId, threadId: view.threadId });
    return r !== 'not-withdrawn';
  };

  // 3. Wait for the outcome.
  const deadline = input.expiresAt + input.expiryGraceMs;
  // A resumed run asks at once: hints that came in while the last run continued as new were not carried.
  let nextPoll = input.resume ? Date.now() : Date.now() + input.pollIntervalMs;
  let outcome: Outcome | undefined;
  while (!outcome) {
    const relevant = () => hints.some((h) => ours.has(h.transactionID));
    const now = Date.now();
    if (!withdrawRequested && now < deadline && !relevant()) {
      await condition(() => withdrawRequested || relevant(), Math.max(1, Math.min(nextPoll, deadline) - now));
    }

    if (withdrawRequested || Date.now() >= deadline) {
      const reason: SigningStatus = withdrawRequested ? 'withdrawn' : 'expired';
      const withdrawn = await withdrawAtEvrotrust();
      // Too late to withdraw means Evrotrust already has a final answer: take that one instead.
      for (const s of pendingSigners()) if (s.transactionId) await confirm(s.transactionId);
      outcome = outcomeOf(view.signers) ?? { status: reason };
      if (!withdrawn && outcome.status === reason) log.warn('withdraw refused but no final status', { signingId: input.signingId });
      break;
    }

    // Which transactions to ask Evrotrust about: those a callback named, or all pending at poll time.
    const toCheck = new Set<string>();
    for (const h of hints.splice(0)) if (ours.has(h.transactionID)) toCheck.add(h.transactionID);
    if (toCheck.size === 0 && Date.now() >= nextPoll) {
      for (const s of pendingSigners()) if (s.transactionId) toCheck.add(s.transactionId);
      nextPoll = Date.now() + input.pollIntervalMs;
    }
    for (const tx of toCheck) {
      if (signerOf(tx)?.status === 'signed') continue;
      const processing = await confirm(tx);
      if (processing) nextPoll = Math.min(nextPoll, Date.now() + input.processingRecheckMs);
    }
    outcome = outcomeOf(view.signers);

    // A signing can wait for days: keep the history small by continuing as new with what we know.
    const info = workflowInfo();
    if (!outcome && (info.continueAsNewSuggested || info.historyLength > (input.continueAsNewAfterEvents ?? 4000))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof signingWorkflow>({ ...input, resume: { threadId: view.threadId, signers: view.signers, withdrawRequested } });
    }
  }

  // One signer's refusal or expiry ends the signing: take the request back from the others.
  if (outcome.status !== 'signed' && outcome.status !== 'withdrawn' && pendingSigners().length > 0) {
    try {
      await withdrawAtEvrotrust();
    } catch (err) {
      log.warn('could not withdraw the remaining requests', { signingId: input.signingId, failure: failureType(err) });
    }
  }

  // 4. All signed: download, decrypt and store every signed file before saying "signed".
  if (outcome.status === 'signed') {
    try {
      for (const s of view.signers) await transfer.storeSignedDocument({ signingId: input.signingId, transactionId: s.transactionId as string });
    } catch (err) {
      return finish('failed', `download-${failureType(err)}`);
    }
  }
  return finish(outcome.status, outcome.failure);
}

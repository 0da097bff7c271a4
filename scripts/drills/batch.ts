// One drill's traffic and its verdict: starts a batch of signings through the HTTP API, drives each
// to an intended outcome through the simulator (sign, reject, let expire) or the API (withdraw),
// lets the drill inject its fault mid-burst, waits (bounded) until every signing is final, and
// counts what MongoDB and the simulator then say.
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { SigningStore } from '../../src/signings/store';
import { HttpError, type ApiClient, type SimControls, type SimTransaction } from './clients';

export type Intent = 'sign' | 'reject' | 'expire' | 'withdraw';
export const FINAL_STATES = ['signed', 'rejected', 'expired', 'withdrawn', 'failed'] as const;
export type FinalState = (typeof FINAL_STATES)[number];

/** Of every 10 signings: 6 signed, 2 rejected, 1 left to expire at Evrotrust, 1 withdrawn by us. */
const MIX: readonly Intent[] = ['sign', 'reject', 'sign', 'withdraw', 'sign', 'expire', 'sign', 'reject', 'sign', 'sign'];
const SIGNERS = ['7501010010', '8002020021'];

export interface DrillTargets {
  api: ApiClient;
  sim: SimControls;
  /** The drill's database; the driver reconnects by itself after a FerretDB restart. */
  db: Db;
}

export interface BatchOptions {
  drill: string;
  size: number;
  /** Lifetime of the signings meant to expire (Evrotrust expires them itself). */
  expireIn: string;
  /** From the first start to the moment every signing must be final. */
  deadlineMs: number;
  /** The fault, started once this share of the batch was accepted; answers what it injected. */
  fault?: (targets: DrillTargets) => Promise<string>;
  faultAt?: number;
  /** Each signing's notifyUrl (the final state is POSTed there). */
  notifyUrl?: string;
  /** Called once a signing's transaction exists at the simulator, before its outcome is driven. */
  beforeAct?: (tx: SimTransaction, index: number) => Promise<void>;
  log: (line: string) => void;
}

export interface DrillResult {
  drill: string;
  signings: number;
  faults: string;
  counts: Record<FinalState, number>;
  lost: number;
  duplicated: number;
  stuck: number;
  wrongOutcome: number;
  lastFinalS: number | undefined;
  /** What went wrong, by mechanism: evidence for whoever fixes it. */
  notes: string[];
  /** Drill-specific checks that failed (each fails the row). */
  checks: string[];
  /** The accepted signings' ids, for a drill's own checks. */
  signingIds?: string[];
}

interface Item {
  index: number;
  intent: Intent;
  reference: string;
  description: string;
  id?: string;
  startError?: string;
  actOutcome?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `fn` on network errors and 5xx (a part is down) until it answers or the deadline passes. */
async function retrying<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const transient = !(err instanceof HttpError) || err.status >= 500;
      if (!transient || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

export async function runBatch(targets: DrillTargets, opts: BatchOptions): Promise<DrillResult> {
  const store = new SigningStore(targets.db);
  const run = randomUUID().slice(0, 8);
  const items: Item[] = Array.from({ length: opts.size }, (_, index) => ({
    index,
    intent: MIX[index % MIX.length] as Intent,
    reference: `drill-${opts.drill}-${run}-${index}`,
    description: `drill ${opts.drill} ${run} #${index}`,
  }));
  const t0 = Date.now();
  const deadline = t0 + opts.deadlineMs;
  const notes: string[] = [];

  // One poller of the simulator's transactions for the whole batch (it is down in some drills).
  let txs: SimTransaction[] = [];
  let polling = true;
  const txPoller = (async () => {
    while (polling) {
      txs = await targets.sim.transactions().catch(() => txs);
      await sleep(700);
    }
  })();

  // One observer of the records: remembers the first final state seen, to catch a later change.
  const firstFinal = new Map<string, string>();
  const changed = new Set<string>();
  let observing = true;
  const observer = (async () => {
    while (observing) {
      const ids = items.flatMap((i) => (i.id ? [i.id] : []));
      try {
        const docs = await store.getMany(ids);
        for (const d of docs) {
          const seen = firstFinal.get(d._id);
          if (seen === undefined && d.status !== 'pending') firstFinal.set(d._id, d.status);
          else if (seen !== undefined && seen !== d.status) changed.add(d._id);
        }
      } catch {
        // the store is down in this drill; try again
      }
      await sleep(1000);
    }
  })();

  let accepted = 0;
  let faultRun: Promise<string> | undefined;
  const faultAt = Math.ceil(opts.size * (opts.faultAt ?? 0.4));
  const startFault = () => {
    if (faultRun || !opts.fault) return;
    opts.log(`fault after ${accepted} accepted (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    faultRun = opts.fault(targets).catch((err: unknown) => {
      notes.push(`the fault itself failed: ${(err as Error).message}`);
      return 'fault failed';
    });
  };

  const drive = async (item: Item) => {
    await sleep(item.index * 150); // a burst over a few seconds, not one instant
    const body = {
      document: {
        filename: `drill-${item.index}.pdf`,
        contentBase64: Buffer.from(`%PDF-1.4\n% ${item.description}\n%%EOF\n`).toString('base64'),
        description: item.description,
      },
      signers: [{ identificationNumber: SIGNERS[item.index % SIGNERS.length] }],
      reference: item.reference,
      ...(item.intent === 'expire' ? { expiresIn: opts.expireIn } : {}),
      ...(opts.notifyUrl ? { notifyUrl: opts.notifyUrl } : {}),
    };
    try {
      item.id = (await retrying(t0 + 90_000, () => targets.api.start(body))).id;
    } catch (err) {
      item.startError = (err as Error).message;
      return;
    }
    accepted += 1;
    if (accepted >= faultAt) startFault();

    // Its transaction at Evrotrust: the document was sent.
    let tx: SimTransaction | undefined;
    while (!tx && Date.now() < deadline) {
      tx = txs.find((t) => t.description === item.description);
      if (tx) break;
      // A send that failed ends the signing without a transaction: stop waiting for one.
      if (firstFinal.has(item.id)) break;
      await sleep(500);
    }
    if (!tx) {
      item.actOutcome = 'never sent';
      return;
    }
    if (opts.beforeAct) await opts.beforeAct(tx, item.index).catch((err: unknown) => notes.push(`beforeAct: ${(err as Error).message}`));
    await sleep(500 + ((item.index * 737) % 3500)); // outcomes spread over the fault window
    const txId = tx.transactionID;
    try {
      if (item.intent === 'sign' || item.intent === 'reject') {
        const status = await retrying(deadline, () => targets.sim.act(txId, item.intent as 'sign' | 'reject'));
        item.actOutcome = status === 200 ? 'done' : `simulator ${status}`;
      } else if (item.intent === 'withdraw') {
        const id = item.id;
        const status = await retrying(deadline, async () => {
          const s = await targets.api.withdraw(id);
          if (s >= 500) throw new HttpError(s, 'withdraw');
          return s;
        });
        item.actOutcome = status === 202 ? 'done' : `withdraw ${status}`;
      } else {
        item.actOutcome = 'waiting for expiry';
      }
    } catch (err) {
      item.actOutcome = `failed: ${(err as Error).message}`;
    }
  };

  await Promise.all(items.map(drive));
  startFault(); // a batch too small to reach the mark still gets its fault
  const faults = faultRun ? await faultRun : 'none';

  // Wait (bounded) until every accepted signing is final.
  const ids = items.flatMap((i) => (i.id ? [i.id] : []));
  for (;;) {
    const pending = await store.getMany(ids).then(
      (docs) => docs.filter((d) => d.status === 'pending').length,
      () => -1,
    );
    if (pending === 0 || Date.now() > deadline) break;
    await sleep(1000);
  }
  await sleep(3000); // a late second final write would show up now
  observing = false;
  polling = false;
  await Promise.all([observer, txPoller]);

  return judge(targets, opts, items, t0, faults, changed, notes);
}

const SIM_STATUS: Record<number, string> = { 1: 'pending', 2: 'signed', 3: 'rejected', 4: 'expired', 6: 'withdrawn' };

/** The final states that agree with what the simulator (the signer's side) shows. */
function allowed(tx: SimTransaction | undefined, intent: Intent): FinalState[] {
  if (!tx) return ['failed']; // never reached Evrotrust: nothing for the signer to sign
  switch (tx.status) {
    case 2:
      return ['signed'];
    case 3:
      return ['rejected'];
    case 4:
      return ['expired'];
    case 6:
      // Withdrawn at Evrotrust: by the business (withdrawn), at our deadline (expired), or to undo a failed send (failed).
      return intent === 'withdraw' ? ['withdrawn'] : ['expired', 'failed'];
    default:
      return []; // still pending at Evrotrust: any final state here leaves a signer able to sign
  }
}

async function judge(
  targets: DrillTargets,
  opts: BatchOptions,
  items: Item[],
  t0: number,
  faults: string,
  changed: Set<string>,
  notes: string[],
): Promise<DrillResult> {
  const accepted = items.filter((i) => i.id);
  const ids = accepted.map((i) => i.id as string);
  const store = new SigningStore(targets.db);
  const read = async () => {
    const docs = await store.getMany(ids);
    const events = await store.histories(ids);
    return { docs, events };
  };
  const { docs, events } = await retrying(Date.now() + 60_000, read);
  const simTxs = await retrying(Date.now() + 30_000, () => targets.sim.transactions());
  const byId = new Map(docs.map((d) => [d._id, d]));
  const counts = Object.fromEntries(FINAL_STATES.map((s) => [s, 0])) as Record<FinalState, number>;
  let lost = 0,
    duplicated = 0,
    stuck = 0,
    wrongOutcome = 0;
  let lastFinal: number | undefined;
  const tally = new Map<string, number>();
  const note = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);

  for (const item of items.filter((i) => i.startError)) note(`not accepted (${item.startError?.slice(0, 80)})`);
  for (const item of accepted) {
    const doc = byId.get(item.id as string);
    const mine = simTxs.filter((t) => t.description === item.description);
    const finals = events.filter((e) => e.signingId === item.id && (FINAL_STATES as readonly string[]).includes(e.type));
    if (!doc) {
      lost += 1;
      note('accepted (2xx) but no record in MongoDB');
      continue;
    }
    const dups = [
      mine.length > 1 && `${mine.length} Evrotrust transactions for one signing`,
      finals.length > 1 && `${finals.length} final events for one signing`,
      changed.has(doc._id) && 'status changed after it was final',
    ].filter((d): d is string => typeof d === 'string');
    dups.forEach(note);
    if (dups.length > 0) duplicated += 1;
    const sim = mine[mine.length - 1]; // the oldest (the list is newest first)
    const simState = sim ? (SIM_STATUS[sim.status] ?? String(sim.status)) : 'none';
    if (doc.status === 'pending') {
      stuck += 1;
      const last =
        events
          .filter((e) => e.signingId === item.id)
          .map((e) => e.type)
          .pop() ?? 'none';
      note(
        `stuck pending (intent ${item.intent}, Evrotrust ${simState}, our last event ${last}${item.actOutcome && item.actOutcome !== 'done' ? `, ${item.actOutcome}` : ''})`,
      );
      continue;
    }
    if ((FINAL_STATES as readonly string[]).includes(doc.status)) counts[doc.status as FinalState] += 1;
    if (finals.length === 0) note(`final ${doc.status} without a final event`);
    else if (finals[0]?.type !== doc.status) note(`final event ${finals[0]?.type} but record ${doc.status}`);
    if (!allowed(sim, item.intent).includes(doc.status as FinalState)) {
      wrongOutcome += 1;
      note(
        `ended ${doc.status}${doc.failureReason ? ` (${doc.failureReason})` : ''} while Evrotrust shows ${simState} (intent ${item.intent})`,
      );
    } else if (doc.status === 'failed') {
      note(`failed (${doc.failureReason ?? 'no reason'}), Evrotrust ${simState}`);
    }
    if (doc.finalizedAt) lastFinal = Math.max(lastFinal ?? 0, new Date(doc.finalizedAt).getTime() - t0);
  }
  for (const [k, n] of tally) notes.push(`${n}× ${k}`);
  return {
    drill: opts.drill,
    signings: accepted.length,
    faults,
    counts,
    lost,
    duplicated,
    stuck,
    wrongOutcome,
    lastFinalS: lastFinal === undefined ? undefined : lastFinal / 1000,
    notes,
    checks: [],
    signingIds: ids,
  };
}

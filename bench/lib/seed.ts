// Seeding for bench/scale.ts: pending signings made in bulk, so a population of 100,000 can be
// reached on this machine, yet each in the state a real one is in.
//
// One template signing is made the way the service makes one, step by step: SigningService.start
// writes its records (a subclass leaves the workflow out), the document goes to the simulator
// through its vendor API, recordSent stores the answer. Each seeded signing is then a copy of every
// row the template has in every collection (found by `_id`, `signingId` or GridFS `files_id`), with
// its own ids: signing id, a real thread and transaction of its own at the simulator (one send per
// seeded signing), a callback token of its own; dates moved to now; GridFS chunks get new ObjectIds.
// The copies are written with one insertMany per collection per batch, and then
// SigningService.ensureWorkflow starts each one's run, which resumes from the record exactly as the
// Reconciler's repair does: it asks Evrotrust the status once and waits. A seeded signing counts as
// seeded when that status question has been answered.
import { randomBytes, randomUUID } from 'node:crypto';
import { Binary, ObjectId, type Db, type Document } from 'mongodb';
import { SigningService, type SigningServiceOptions } from '../../src/signings/service';
import type { EvrotrustClient } from '../../src/evrotrust/client';
import { hashCallbackToken } from '../../src/callbacks/tokens';
import { COLLECTIONS, type SigningDoc } from '../../src/store/collections';
import { workflowIdFor } from '../../workflows/definitions';

/** The service with its workflow start left out: the records as `start` writes them, no run. */
class RecordsOnlyService extends SigningService {
  override async ensureWorkflow(): Promise<void> {}
}

export interface SeededSigning {
  id: string;
  tx: string;
}

export interface Seeder {
  /**
   * Seeds `count` pending signings; resolves when their runs are started, with one promise per
   * signing that resolves once its run has asked Evrotrust for the status (it then waits).
   */
  seedBatch(count: number): Promise<{ signing: SeededSigning; waiting: Promise<void> }[]>;
}

const SIGNER = { identificationNumber: '7501010010' };

/** Runs `op` over `items`, `concurrency` at a time. */
async function eachLimited<T, R>(items: readonly T[], concurrency: number, op: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await op(items[i] as T, i);
      }
    }),
  );
  return out;
}

/** A deep copy with every template id replaced, dates moved by `shiftMs` and ObjectIds new. */
function copyOf(value: unknown, replace: (s: string) => string, shiftMs: number): unknown {
  if (typeof value === 'string') return replace(value);
  if (value instanceof Date) return new Date(value.getTime() + shiftMs);
  if (value instanceof ObjectId) return new ObjectId();
  if (value instanceof Binary) return value;
  if (Array.isArray(value)) return value.map((v) => copyOf(v, replace, shiftMs));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyOf(v, replace, shiftMs)]));
  return value;
}

export async function createSeeder(deps: {
  db: Db;
  service: SigningService;
  serviceOptions: SigningServiceOptions;
  evrotrust: EvrotrustClient;
  /** Where the simulator sends callbacks (the service's base URL). */
  publicBaseUrl: string;
  onStatusConfirmed: (listener: ((signingId: string) => void) | undefined) => void;
  /** Sends to the simulator and run starts in flight at once (default 50). */
  concurrency?: number;
}): Promise<Seeder & { template: SeededSigning }> {
  const concurrency = deps.concurrency ?? 50;
  const store = deps.service.store;
  const waiting = new Map<string, () => void>();
  deps.onStatusConfirmed((id) => {
    waiting.get(id)?.();
    waiting.delete(id);
  });
  const content = Buffer.from('%PDF-1.4\n% seeded\n%%EOF\n');
  const filename = 'seeded.pdf';
  const send = (expiresAt: Date, token: string) =>
    deps.evrotrust.sendOnline({
      document: { filename, content, description: filename, dateExpire: expiresAt },
      signers: [SIGNER],
      urlCallback: `${deps.publicBaseUrl}/evrotrust/callback/t/${token}`,
    });

  // ---- the template, made as the service makes a signing ----
  const { id: templateId } = await new RecordsOnlyService(deps.serviceOptions).start({
    document: { filename, content },
    signers: [SIGNER],
  });
  const made = await store.get(templateId);
  if (!made) throw new Error('the template signing was not stored');
  if (!(await store.claimSend(templateId))) throw new Error('the template signing was claimed already');
  const templateToken = await store.issueCallbackToken(templateId);
  const sent = await send(made.expiresAt, templateToken);
  const templateTx = sent.transactions[0]?.transactionID as string;
  await store.recordSent(templateId, workflowIdFor(templateId), sent.threadID, [templateTx]);
  await store.event(templateId, 'sent', 'sent', { threadId: sent.threadID, transactionIds: [templateTx] });
  const template = (await store.get(templateId)) as SigningDoc;

  // Every row of the template, wherever the service put it.
  const rows: { collection: string; docs: Document[] }[] = [];
  for (const { name } of await deps.db.listCollections({}, { nameOnly: true }).toArray()) {
    if (name.startsWith('system.')) continue;
    const docs = await deps.db
      .collection(name)
      .find({ $or: [{ _id: templateId as never }, { signingId: templateId }, { files_id: templateId }] })
      .toArray();
    if (docs.length > 0) rows.push({ collection: name, docs });
  }
  const templateTokenHash = hashCallbackToken(templateToken);

  /** Starts the run; `confirmed` resolves once it has asked Evrotrust the status. */
  const startRun = async (doc: SigningDoc): Promise<{ confirmed: Promise<void> }> => {
    const confirmed = new Promise<void>((resolve) => waiting.set(doc._id, resolve));
    await deps.service.ensureWorkflow(doc);
    return { confirmed };
  };
  await (
    await startRun(template)
  ).confirmed;

  return {
    template: { id: templateId, tx: templateTx },
    async seedBatch(count) {
      const shiftMs = Date.now() - template.createdAt.getTime();
      // A thread and transaction of its own at the simulator for each, sent as the worker sends.
      const each = await eachLimited(Array.from({ length: count }), concurrency, async () => {
        const id = randomUUID();
        const token = randomBytes(24).toString('base64url');
        const r = await send(new Date(template.expiresAt.getTime() + shiftMs), token);
        return { id, tokenHash: hashCallbackToken(token), tx: r.transactions[0]?.transactionID as string, thread: r.threadID };
      });
      const copies = each.map((s) => {
        const replace = (v: string) =>
          v
            .replaceAll(templateId, s.id)
            .replaceAll(templateTx, s.tx)
            .replaceAll(sent.threadID, s.thread)
            .replaceAll(templateTokenHash, s.tokenHash);
        return rows.map(({ collection, docs }) => ({ collection, docs: docs.map((d) => copyOf(d, replace, shiftMs) as Document) }));
      });
      for (const { collection } of rows) {
        const docs = copies.flatMap((c) => c.find((r) => r.collection === collection)?.docs ?? []);
        await deps.db.collection(collection).insertMany(docs, { ordered: false });
      }
      // The run starts from the record just written (as the reconciler starts one from what it read).
      return eachLimited(each, concurrency, async (s, i) => ({
        signing: { id: s.id, tx: s.tx },
        waiting: (await startRun(copies[i]?.find((r) => r.collection === COLLECTIONS.signings)?.docs[0] as SigningDoc)).confirmed,
      }));
    },
  };
}

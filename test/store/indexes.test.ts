// Every query the service sends to MongoDB is served by an index that ensureIndexes declares (issue 13).
//
// The whole service runs on the real stack (the suite's Temporal and FerretDB, the simulator over
// HTTP, the real worker, activities, callback routes and relay) with a MongoClient that records every
// command (`monitorCommands`): a signing signed through a callback, one withdrawn, one expired, a GET,
// the signed file, a reconciler that repairs a terminated run and ends a never-started signing (a page
// at a time), the list (GET /v1/signings) with each filter combination and the page after its
// cursor, relay sweeps that give up and prune callbacks for unknown transactionIDs, and the
// retention job. Each command's filter and sort is then checked against the indexes the database
// holds after ensureIndexes (index-check.ts has the rule). FerretDB takes index declarations but
// scans anyway, so this checks the declarations, not query plans: it means the same on MongoDB 7.
//
// It also prints the commands (round trips) of one signing per phase of its life, from an
// AsyncLocalStorage label on each caller (the activity, the service call; the HTTP side and the relay
// are `background`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import type { Activities } from '../../activities';
import { ensureIndexes, type MongoHandle } from '../../src/store/mongo';
import { Reconciler } from '../../src/signings/reconciler';
import { RetentionJob } from '../../src/signings/retention';
import { SigningService } from '../../src/signings/service';
import { SignedDocumentGoneError } from '../../src/signings/errors';
import { eventCount, finalSigning, SHORT_EXPIRY, sentTransactions, signingRequest, useSigningEnv } from '../helpers/signing-env';
import { testEnv } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { newTransactionId, post } from '../callbacks/helpers';
import { queriesOf, sortOf, unservedReason, type IndexSpec, type Query, type RecordedCommand } from './index-check';

interface Context {
  label: string;
  signingId?: string;
}

interface Recorded extends RecordedCommand {
  signingId: string | undefined;
}

const als = new AsyncLocalStorage<Context>();
const recorded: Recorded[] = [];
const dbName = `t_idx_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
let recording = true;

/** Runs `fn` with every store command it causes labelled `label`. */
const as = <T>(label: string, fn: () => Promise<T>, signingId?: string): Promise<T> => als.run({ label, signingId }, fn);

async function monitoredMongo(): Promise<MongoHandle> {
  const client = new MongoClient(testEnv().mongoUri, { monitorCommands: true, appName: 'index-test' });
  client.on('commandStarted', (e) => {
    if (!recording || e.databaseName !== dbName) return;
    const ctx = als.getStore();
    recorded.push({
      label: ctx?.label ?? 'background',
      signingId: ctx?.signingId,
      commandName: e.commandName,
      command: e.command as Record<string, unknown>,
    });
  });
  await client.connect();
  const db = client.db(dbName);
  await ensureIndexes(db);
  return { client, db, close: () => client.close() };
}

/** Every activity runs labelled with its name and signing. */
function labelled(activities: Activities): Activities {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (input: { signingId?: string }) => as(name, () => (fn as (i: unknown) => Promise<unknown>)(input), input?.signingId),
    ]),
  ) as unknown as Activities;
}

/** `insert signings`, `find sources.chunks`, …: what a command is, without any value. */
const brief = (c: RecordedCommand): string => `${c.commandName} ${String(c.command[c.commandName])}`;

describe('the index check itself', () => {
  const indexes: IndexSpec[] = [
    {
      name: 'status__id',
      key: [
        ['status', 1],
        ['_id', 1],
      ],
      unique: false,
    },
    {
      name: 'a_b',
      key: [
        ['a', 1],
        ['b', 1],
      ],
      unique: false,
    },
  ];
  const q = (filter: Record<string, unknown>, sort: [string, number][] = [], extra: Partial<Query> = {}): Query => ({
    collection: 'c',
    commandName: 'find',
    filter,
    sort,
    single: false,
    metadataCount: false,
    ...extra,
  });

  it('accepts point lookups, index prefixes, ranges and sorts the index gives', () => {
    for (const ok of [
      q({ _id: 'x' }),
      q({ _id: { $in: ['x', 'y'] }, anything: { $ne: 1 } }),
      q({ status: 'pending' }),
      q({ status: 'pending', _id: { $gt: 'x' } }, [['_id', 1]]),
      q({ a: 1 }, [['b', -1]]),
      q({ a: null, b: { $lt: new Date() } }, [['b', 1]]),
      q({}, [], { commandName: 'count', metadataCount: true }),
      q({}, [], { single: true }),
    ])
      assert.equal(unservedReason(ok, indexes), null, JSON.stringify(ok.filter));
  });

  it('reads sorts as the driver sends them (a Map from a cursor, a document from options)', () => {
    assert.deepEqual(
      sortOf(
        new Map([
          ['n', 1],
          ['at', -1],
        ]),
      ),
      [
        ['n', 1],
        ['at', -1],
      ],
    );
    assert.deepEqual(sortOf({ n: 1 }), [['n', 1]]);
  });

  it('refuses fields outside an index prefix, unbounded operators, unserved sorts and whole-collection reads, naming only the shape', () => {
    for (const bad of [
      q({ b: 1 }),
      q({ a: 1, c: 2 }),
      q({ a: 1 }, [['c', 1]]),
      q({ status: { $ne: 'pending' } }),
      q({ $or: [{ a: 1 }, { b: 2 }] }),
      q({}),
      q({ status: 'pending', b: { $lt: 3 } }),
    ]) {
      const reason = unservedReason(bad, indexes);
      assert.ok(reason, `${JSON.stringify(bad.filter)} is refused`);
      assert.doesNotMatch(reason, /pending|"1"|: 1\b(?!\})/, 'no values in the message');
    }
    assert.match(unservedReason(q({ a: 1, c: 'secret' }), indexes) ?? '', /^c find \{a, c\}: no index serves it/);
  });
});

describe('every MongoDB query of the service is index-backed', () => {
  const env = useSigningEnv({
    callbacks: true,
    pollIntervalMs: 60_000,
    expiryGraceMs: 1000,
    expiryBounds: SHORT_EXPIRY,
    mongo: monitoredMongo,
    wrapActivities: labelled,
    // Sweeps only when the test asks (so a phase's count is the callback's own work), and callbacks
    // for unknown transactionIDs given up, capped and pruned within seconds.
    relay: { sweepIntervalMs: 3_600_000, giveUpUnknownAfterMs: 1000, maxUnknownPending: 1, pruneIntervalMs: 0, unknownRetentionMs: 0 },
  });

  it('a signing signed through a callback, withdrawn, expired, a GET, the reconciler, the relay and retention', async () => {
    const phases: { phase: string; commands: string[] }[] = [];
    const since = (from: number, keep: (c: Recorded) => boolean) => recorded.slice(from).filter(keep).map(brief);
    await as('test', async () => {
      // ---- one signing, through its life, alone ----
      let mark = recorded.length;
      const { id } = await as('start', () => env.service.start(signingRequest()));
      phases.push({ phase: 'start', commands: since(mark, (c) => c.label === 'start') });
      const [tx] = await sentTransactions(env, id);
      await waitFor(async () => (await eventCount(env, id, 'sent')) === 1, 'the send activity to finish');
      const activity = (...names: string[]) => since(0, (c) => c.signingId === id && names.includes(c.label));
      phases.push({ phase: 'sent (checkSigners, sendDocument)', commands: activity('checkSigners', 'sendDocument', 'recordSent') });
      mark = recorded.length;
      await env.sim.controls.sign(tx as string);
      assert.equal((await finalSigning(env, id)).status, 'signed');
      // Both writes of each stored callback done, and none left to deliver.
      const callbacks = await waitFor(async () => {
        const docs = await env.inbox.byTransaction(tx as string);
        const queued = await Promise.all(docs.map((d) => env.inbox.queueEntry(d._id)));
        return docs.length > 0 && docs.every((d) => d.deliveryState !== 'pending') && queued.every((e) => e === null) && docs;
      }, 'the callbacks settled');
      phases.push({ phase: `callback (${callbacks.length} received)`, commands: since(mark, (c) => c.label === 'background') });
      phases.push({ phase: 'signed (confirmStatus, storeSignedDocument)', commands: activity('confirmStatus', 'storeSignedDocument') });
      phases.push({ phase: 'finalized (finalizeSigning)', commands: activity('finalizeSigning') });
      mark = recorded.length;
      await as('get', () => env.service.get(id));
      phases.push({ phase: 'GET /v1/signings/:id', commands: since(mark, (c) => c.label === 'get') });
      mark = recorded.length;
      await as('signed-document', () => env.service.signedDocument(id));
      phases.push({ phase: 'GET …/signed-document', commands: since(mark, (c) => c.label === 'signed-document') });
      await as('events', () => env.service.events(id));

      // ---- withdrawn, expired ----
      const withdrawn = await as('start', () => env.service.start(signingRequest()));
      await sentTransactions(env, withdrawn.id);
      await as('withdraw', () => env.service.withdraw(withdrawn.id));
      assert.equal((await finalSigning(env, withdrawn.id)).status, 'withdrawn');
      const expired = await as('start', () => env.service.start(signingRequest({ expiresIn: '2s' })));
      assert.equal((await finalSigning(env, expired.id)).status, 'expired');

      // ---- the reconciler: a terminated run, and a signing whose start never reached Temporal ----
      const terminated = await as('start', () => env.service.start(signingRequest()));
      await sentTransactions(env, terminated.id);
      await env.temporal.workflow.getHandle(`signing-${terminated.id}`).terminate('index test');
      const keyedReference = `idx-${randomUUID()}`;
      const keyed = signingRequest({ reference: keyedReference });
      const dead = new SigningService({
        db: env.mongo.db,
        temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:9', connectTimeout: 500 }) }),
        taskQueue: env.worker.taskQueue,
        defaultExpiryMs: 60_000,
        pollIntervalMs: 60_000,
      });
      await assert.rejects(as('start', () => dead.start(keyed)));
      // One pending signing per page, so the passes page through them.
      const reconciler = new Reconciler({
        service: env.service,
        temporal: env.temporal,
        taskQueue: env.worker.taskQueue,
        notStartedGraceMs: 0,
        batchSize: 1,
      });
      const restarted: string[] = [];
      const notStarted: string[] = [];
      for (let pass = 0; pass < 4; pass++) {
        const report = await as('reconciler', () => reconciler.reconcileOnce());
        assert.ok(report.pending <= 1, 'a page at most');
        restarted.push(...report.restarted);
        notStarted.push(...report.notStarted);
      }
      assert.deepEqual(restarted, [terminated.id]);
      assert.equal(notStarted.length, 1);
      await as('withdraw', () => env.service.withdraw(terminated.id));
      assert.equal((await finalSigning(env, terminated.id)).status, 'withdrawn');
      // The reference of the never-started signing starts a new one.
      const again = await as('start', () => env.service.start(keyed));
      assert.equal(again.created, true);
      await sentTransactions(env, again.id);
      await as('withdraw', () => env.service.withdraw(again.id));
      await finalSigning(env, again.id);

      // ---- GET /v1/signings: each filter combination, its first page and the next from its cursor ----
      const reference = keyedReference; // two signings: the never-started one (failed) and `again` (withdrawn)
      const range = {
        createdAfter: new Date(Date.now() - 3_600_000).toISOString(),
        createdBefore: new Date(Date.now() + 60_000).toISOString(),
      };
      const filters: Record<string, unknown>[] = [
        {},
        { status: 'withdrawn' },
        { status: ['withdrawn', 'failed'] },
        { reference },
        { reference, status: 'withdrawn' },
        { reference, status: ['withdrawn', 'failed'] },
        { createdAfter: range.createdAfter },
        { createdBefore: range.createdBefore, status: 'withdrawn' },
        range,
        { ...range, status: ['withdrawn', 'failed', 'signed'] },
        { ...range, reference },
        { ...range, reference, status: ['withdrawn', 'failed'] },
      ];
      mark = recorded.length;
      let nextPages = 0;
      for (const filter of filters) {
        const first = await as('list', () => env.service.list({ ...filter, limit: 1 }));
        assert.equal(first.items.length, 1, `a signing for ${JSON.stringify(Object.keys(filter))}`);
        // { reference, status: withdrawn } has one signing; every other filter has two or more.
        if (first.nextCursor === null) continue;
        nextPages += 1;
        const next = await as('list', () => env.service.list({ ...filter, limit: 1, cursor: first.nextCursor }));
        assert.notEqual(next.items[0]?.id, first.items[0]?.id);
      }
      assert.equal(nextPages, filters.length - 1, 'the cursor queries are checked too');
      phases.push({ phase: `GET /v1/signings (${filters.length + nextPages} pages)`, commands: since(mark, (c) => c.label === 'list') });

      // ---- the relay's sweeps: two callbacks for unknown transactionIDs, capped, given up, pruned ----
      const port = Number(new URL(env.http?.url as string).port);
      for (let i = 0; i < 2; i++) {
        const res = await post(port, '/evrotrust/callback/document/ready', { transactionID: newTransactionId(), status: 2 });
        assert.equal(res.status, 200);
      }
      await waitFor(
        async () => {
          await as('relay-sweep', async () => {
            await env.http?.relay.sweep();
            await env.http?.relay.idle();
          });
          return (await env.inbox.countUndelivered()) === 0 && (await env.inbox.countInState('unknown-transaction')) === 0;
        },
        'both unknown callbacks given up and pruned',
        20_000,
      );

      // ---- retention: everything final is past a 1 ms retention ----
      const retention = new RetentionJob({ store: env.store, personalDataMs: 1, signedDocumentMs: 1, batchSize: 2 });
      const report = await as('retention', () => retention.runOnce(new Date(Date.now() + 60_000)));
      assert.ok(report.personalDataErased.includes(id) && report.signedDocumentsDeleted.includes(id));
      await assert.rejects(
        as('signed-document', () => env.service.signedDocument(id)),
        (err) => err instanceof SignedDocumentGoneError,
      );
    });
    recording = false;

    // ---- the check ----
    const collections = new Set<string>();
    const queries: { label: string; query: Query }[] = [];
    for (const c of recorded) {
      for (const query of queriesOf(c)) {
        collections.add(query.collection);
        queries.push({ label: c.label, query });
      }
    }
    // What the database holds after ensureIndexes (not what the code says it declares).
    const indexes = new Map<string, IndexSpec[]>();
    for (const name of collections) {
      // A collection never created has no index but `_id` (code 26: NamespaceNotFound).
      const answer = (await env.mongo.db
        .command({ listIndexes: name })
        .catch((err: { code?: number }) => (err.code === 26 ? { cursor: { firstBatch: [] } } : Promise.reject(err)))) as {
        cursor: { firstBatch: { name: string; key: Record<string, number>; unique?: boolean }[] };
      };
      indexes.set(
        name,
        answer.cursor.firstBatch.map((i) => ({ name: i.name, key: Object.entries(i.key), unique: i.unique === true || i.name === '_id_' })),
      );
    }
    const unserved = new Set<string>();
    for (const { label, query } of queries) {
      const reason = unservedReason(query, indexes.get(query.collection) ?? []);
      if (reason) unserved.add(`${reason} [sent by ${label}]`);
    }

    const report = phases.map((p) => `  ${p.phase}: ${p.commands.length} — ${p.commands.join(', ')}`).join('\n');
    console.log(`MongoDB round trips of one signing, per phase:\n${report}`);
    console.log(`${recorded.length} commands recorded, ${queries.length} queries checked on ${collections.size} collections`);

    // The recording covered what it claims: every collection the service queries, the GridFS ones included.
    for (const c of [
      'signings',
      'signing_people',
      'signing_events',
      'signing_references',
      'transactions',
      'callback_tokens',
      'callbacks',
      'callback_queue',
      'sources.files',
      'sources.chunks',
      'documents.files',
      'documents.chunks',
    ])
      assert.ok(collections.has(c), `the recording has queries on ${c}`);
    for (const label of [
      'start',
      'checkSigners',
      'sendDocument',
      'confirmStatus',
      'storeSignedDocument',
      'finalizeSigning',
      'withdrawThread',
    ])
      assert.ok(
        recorded.some((c) => c.label === label),
        `commands sent by ${label} were recorded`,
      );
    for (const label of ['background', 'reconciler', 'relay-sweep', 'retention', 'get', 'withdraw', 'list'])
      assert.ok(
        queries.some((q) => q.label === label),
        `queries sent by ${label} were checked`,
      );
    assert.deepEqual([...unserved], [], `queries no declared index serves:\n${[...unserved].join('\n')}`);
  });
});

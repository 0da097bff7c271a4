// One MongoDB connection for the process, and the indexes every collection relies on.
// Everything here must behave the same on FerretDB 1.24 and on MongoDB 7 (README "Known limits"): no
// transactions, no TTL indexes; idempotency comes from inserts guarded by unique indexes.
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { BUCKETS, COLLECTIONS } from './collections';

export interface MongoHandle {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export async function connectMongo(uri: string, dbName: string, opts: { serverSelectionTimeoutMS?: number } = {}): Promise<MongoHandle> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 5000, appName: 'evrotrust-signing' });
  await client.connect();
  const db = client.db(dbName);
  return { client, db, close: () => client.close() };
}

/**
 * One index a query of the service needs: the collection, the key, and the options. Every query the
 * service sends is served by one of these (or by `_id`): test/store/indexes.test.ts records the
 * commands of whole signings and checks each filter and sort against this list.
 */
export interface IndexDeclaration {
  collection: string;
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
}

/** The indexes `ensureIndexes` creates, beside each collection's `_id` index. */
export const INDEXES: readonly IndexDeclaration[] = [
  // The reconciler's pages: pending signings in id order, resuming after the last id.
  { collection: COLLECTIONS.signings, key: { status: 1, _id: 1 }, name: 'status__id' },
  // GET /v1/signings: newest first, by status (always pinned, all statuses when none is asked for),
  // and by reference and status; a created range and the cursor bound createdAt, then _id.
  { collection: COLLECTIONS.signings, key: { status: 1, createdAt: -1, _id: -1 }, name: 'status_createdAt__id' },
  {
    collection: COLLECTIONS.signings,
    key: { reference: 1, status: 1, createdAt: -1, _id: -1 },
    name: 'reference_status_createdAt__id',
  },
  // The retention job: final signings past a cutoff whose personal data / signed files remain, oldest first.
  { collection: COLLECTIONS.signings, key: { personalDataErasedAt: 1, finalizedAt: 1 }, name: 'personalDataErasedAt_finalizedAt' },
  { collection: COLLECTIONS.signings, key: { signedDocumentsDeletedAt: 1, finalizedAt: 1 }, name: 'signedDocumentsDeletedAt_finalizedAt' },
  // transactionID → signing: _id is the transactionID, so the mapping is unique by construction;
  // this finds a signing's transactions (a send that must be recovered).
  { collection: COLLECTIONS.transactions, key: { signingId: 1 }, name: 'signingId' },
  // Finalizing revokes a signing's tokens that are not revoked yet.
  { collection: COLLECTIONS.callbackTokens, key: { signingId: 1, revokedAt: 1 }, name: 'signingId_revokedAt' },
  { collection: COLLECTIONS.signingEvents, key: { signingId: 1, at: 1 }, name: 'signingId_at' },
  { collection: COLLECTIONS.callbacks, key: { transactionID: 1 }, name: 'transactionID' },
  // Pending callbacks (requeued at start) and given-up ones (pruned by receipt, oldest first).
  { collection: COLLECTIONS.callbacks, key: { deliveryState: 1, receivedAt: 1 }, name: 'deliveryState_receivedAt' },
  // The callback relay's queue: due entries, and its entries for unknown transactionIDs (capped, oldest first).
  { collection: COLLECTIONS.callbackQueue, key: { nextAttemptAt: 1 }, name: 'nextAttemptAt' },
  { collection: COLLECTIONS.callbackQueue, key: { unknownTransaction: 1, enqueuedAt: 1 }, name: 'unknownTransaction_enqueuedAt' },
  // GridFS's own indexes, with the names and options the driver gives them. The driver creates them
  // only on a bucket's first upload into an empty collection, and src/store/files.ts writes without
  // the driver's upload stream; the unique (files_id, n) is what makes a repeated write trip.
  ...Object.values(BUCKETS).flatMap((bucket): IndexDeclaration[] => [
    { collection: `${bucket}.files`, key: { filename: 1, uploadDate: 1 }, name: 'filename_1_uploadDate_1' },
    { collection: `${bucket}.chunks`, key: { files_id: 1, n: 1 }, name: 'files_id_1_n_1', unique: true },
  ]),
];

/**
 * Indexes earlier versions created that no query uses any more (each write kept them up to date):
 * `signers.transactionId` (never queried), `status, createdAt` (the reconciler pages by status__id),
 * `delivered, receivedAt` (nothing reads `delivered`); `deliveryState` and `callback_tokens.signingId`
 * are prefixes of their successors, which serve every query an older version still running sends.
 */
const RETIRED_INDEXES: readonly { collection: string; name: string }[] = [
  { collection: COLLECTIONS.signings, name: 'signers_transactionId' },
  { collection: COLLECTIONS.signings, name: 'status_createdAt' },
  { collection: COLLECTIONS.callbacks, name: 'delivered_receivedAt' },
  { collection: COLLECTIONS.callbacks, name: 'deliveryState' },
  { collection: COLLECTIONS.callbackTokens, name: 'signingId' },
];

/** Creates the indexes the service needs, then drops the retired ones; safe to run at every start. */
export async function ensureIndexes(db: Db): Promise<void> {
  await Promise.all(
    INDEXES.map((i) => db.collection(i.collection).createIndex(i.key, { name: i.name, ...(i.unique ? { unique: true } : {}) })),
  );
  await Promise.all(
    RETIRED_INDEXES.map(({ collection, name }) =>
      db
        .collection(collection)
        .dropIndex(name)
        .catch((err: unknown) => {
          // Not there (a new database, or dropped before): nothing to do.
          if (!(err instanceof MongoServerError && (err.code === 27 || err.code === 26))) throw err;
        }),
    ),
  );
}

// One MongoDB connection for the process, and the indexes every collection relies on.
// Everything here must behave the same on FerretDB 1.24 and on MongoDB 7 (README "Known limits"): no
// transactions, no TTL indexes; idempotency comes from inserts guarded by unique indexes.
import { MongoClient, type Db } from 'mongodb';
import { COLLECTIONS } from './collections';

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

/** Creates the indexes the service needs; safe to run at every start. */
export async function ensureIndexes(db: Db): Promise<void> {
  await Promise.all([
    db.collection(COLLECTIONS.signings).createIndex({ 'signers.transactionId': 1 }, { name: 'signers_transactionId' }),
    db.collection(COLLECTIONS.signings).createIndex({ status: 1, createdAt: 1 }, { name: 'status_createdAt' }),
    // The retention job: final signings past a cutoff whose personal data / signed files remain.
    db
      .collection(COLLECTIONS.signings)
      .createIndex({ personalDataErasedAt: 1, finalizedAt: 1 }, { name: 'personalDataErasedAt_finalizedAt' }),
    db
      .collection(COLLECTIONS.signings)
      .createIndex({ signedDocumentsDeletedAt: 1, finalizedAt: 1 }, { name: 'signedDocumentsDeletedAt_finalizedAt' }),
    // transactionID → signing: _id is the transactionID, so the mapping is unique by construction.
    db.collection(COLLECTIONS.transactions).createIndex({ signingId: 1 }, { name: 'signingId' }),
    db.collection(COLLECTIONS.callbackTokens).createIndex({ signingId: 1 }, { name: 'signingId' }),
    db.collection(COLLECTIONS.signingEvents).createIndex({ signingId: 1, at: 1 }, { name: 'signingId_at' }),
    db.collection(COLLECTIONS.callbacks).createIndex({ delivered: 1, receivedAt: 1 }, { name: 'delivered_receivedAt' }),
    db.collection(COLLECTIONS.callbacks).createIndex({ transactionID: 1 }, { name: 'transactionID' }),
    // The callback relay: due entries of its queue, its callbacks for unknown transactionIDs (capped,
    // oldest first), and pending or given-up callbacks (requeued at start, pruned hourly).
    db.collection(COLLECTIONS.callbackQueue).createIndex({ nextAttemptAt: 1 }, { name: 'nextAttemptAt' }),
    db
      .collection(COLLECTIONS.callbackQueue)
      .createIndex({ unknownTransaction: 1, enqueuedAt: 1 }, { name: 'unknownTransaction_enqueuedAt' }),
    db.collection(COLLECTIONS.callbacks).createIndex({ deliveryState: 1 }, { name: 'deliveryState' }),
  ]);
}

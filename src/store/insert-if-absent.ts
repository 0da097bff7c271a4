// Idempotency without transactions (README "Known limits"): an insert that a unique key refuses is
// the one write that is atomic on FerretDB too. Every "create once" in the stores goes through here.
import { MongoServerError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';

/** A unique-index violation (E11000): the document, or one with the same key, is there already. */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/** Inserts `doc`; true if it is new, false if a document with the same unique key exists. */
export async function insertIfAbsent<T extends Document>(collection: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  try {
    await collection.insertOne(doc);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

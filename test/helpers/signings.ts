// Signing records for tests that need one without going through the service (the callback path,
// the relay, benchmarks): complete SigningDoc values, written through SigningStore like the service's.
import type { Db } from 'mongodb';
import { SigningStore } from '../../src/signings/store';
import type { SigningDoc } from '../../src/store/collections';
import { workflowIdFor, type SigningStatus } from '../../workflows/definitions';

/** A complete record of a one-signer app signing, pending and not sent yet, unless `overrides` say otherwise. */
export function signingDoc(signingId: string, overrides: Partial<SigningDoc> = {}): SigningDoc {
  const now = new Date();
  return {
    _id: signingId,
    status: 'pending',
    method: 'app',
    reference: null,
    document: { filename: 'test.pdf', description: null, sha256: '0'.repeat(64), size: 0 },
    signers: [{ transactionId: null, status: 'pending' }],
    threadId: null,
    rejectReason: null,
    failureCode: null,
    failureReason: null,
    expiresAt: new Date(now.getTime() + 3_600_000),
    createdAt: now,
    finalizedAt: null,
    signedDocuments: [],
    workflowId: workflowIdFor(signingId),
    ...overrides,
  };
}

/** Creates the record of a signing in `status` (pending by default) through the store. */
export async function createSigning(db: Db, signingId: string, status: SigningStatus = 'pending'): Promise<SigningDoc> {
  const doc = signingDoc(signingId, { status });
  await new SigningStore(db).create(doc);
  return doc;
}

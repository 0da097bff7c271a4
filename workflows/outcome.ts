// The signing's outcome from its signers' confirmed statuses (pure, deterministic).
import type { FailureCode, SignerStatus, SignerView, SigningStatus } from './definitions';

export interface Outcome {
  status: Exclude<SigningStatus, 'pending'>;
  failure?: FailureCode;
}

/** Why the wait was cut short: the deadline passed, or business code withdrew the signing. */
export type EndReason = 'expired' | 'withdrawn';

/** Evrotrust's own failure statuses and the failure code a caller sees for each. */
const FAILURES: ReadonlyArray<[SignerStatus, FailureCode]> = [
  ['faceRecognitionFailed', 'face-recognition-failed'],
  ['failed', 'evrotrust-failed'],
  ['undeliverable', 'undeliverable'],
];

/**
 * undefined while the signing must keep waiting. One refusal ends it; it is signed only when all
 * signed. A signer who signed but whose file Evrotrust is still processing has signed: it is waited
 * for even after the deadline or a withdraw, so a signed document never ends `withdrawn`. Once the
 * deadline passed, transactions we withdrew ourselves count as expired, not withdrawn.
 */
export function outcomeOf(signers: readonly SignerView[], endReason?: EndReason): Outcome | undefined {
  const has = (status: SignerStatus) => signers.some((s) => s.status === status);
  if (has('rejected')) return { status: 'rejected' };
  for (const [status, failure] of FAILURES) if (has(status)) return { status: 'failed', failure };
  if (signers.length > 0 && signers.every((s) => s.status === 'signed')) return { status: 'signed' };
  if (has('processing')) return undefined;
  if (has('expired')) return { status: 'expired' };
  if (has('withdrawn')) return { status: endReason === 'expired' ? 'expired' : 'withdrawn' };
  if (endReason) return { status: endReason };
  return undefined;
}

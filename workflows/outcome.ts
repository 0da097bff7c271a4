// The signing's outcome from its signers' confirmed statuses (pure, deterministic).
import type { SignerView, SigningStatus } from './definitions';

export interface Outcome {
  status: Exclude<SigningStatus, 'pending'>;
  failure?: string;
}

/** undefined while the signing must keep waiting. One refusal ends it; it is signed only when all signed. */
export function outcomeOf(signers: readonly SignerView[]): Outcome | undefined {
  const has = (status: string) => signers.some((s) => s.status === status);
  if (has('rejected')) return { status: 'rejected' };
  if (has('withdrawn')) return { status: 'withdrawn' };
  if (has('expired')) return { status: 'expired' };
  if (has('failed')) return { status: 'failed', failure: 'evrotrust-failed' };
  if (has('undeliverable')) return { status: 'failed', failure: 'undeliverable' };
  if (signers.length > 0 && signers.every((s) => s.status === 'signed')) return { status: 'signed' };
  return undefined;
}

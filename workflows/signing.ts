// signingWorkflow: waits durably for Evrotrust's outcome and records exactly one final state.
import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { evrotrustCallbackSignal, statusQuery, type EvrotrustCallback, type SigningStatus } from './definitions';

export interface SigningWorkflowInput {
  signingId: string;
  transactionIds: string[];
  /** How long to wait for the outcome before the signing expires, in ms. */
  deadlineMs: number;
}

const { finalizeSigning } = proxyActivities<Activities>({ startToCloseTimeout: '30s' });

const STATUS_BY_CODE: Record<number, SigningStatus> = { 2: 'signed', 3: 'rejected', 4: 'expired', 5: 'failed', 6: 'withdrawn', 7: 'failed' };

export async function signingWorkflow(input: SigningWorkflowInput): Promise<SigningStatus> {
  let status: SigningStatus = 'pending';
  let outcome: EvrotrustCallback | undefined;
  setHandler(statusQuery, () => ({ signingId: input.signingId, status }));
  setHandler(evrotrustCallbackSignal, (cb) => {
    if (outcome === undefined && input.transactionIds.includes(cb.transactionID) && STATUS_BY_CODE[cb.status]) outcome = cb;
  });
  const arrived = await condition(() => outcome !== undefined, input.deadlineMs);
  status = arrived && outcome ? (STATUS_BY_CODE[outcome.status] as SigningStatus) : 'expired';
  await finalizeSigning({ signingId: input.signingId, status, rejectReason: outcome?.rejectReason });
  return status;
}

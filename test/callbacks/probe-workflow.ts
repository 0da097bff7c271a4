// A small workflow for the callback tests: waits for evrotrustCallback signals of its transactions
// and returns them, so a test sees exactly what a workflow receives from the relay.
import { condition, setHandler } from '@temporalio/workflow';
import { evrotrustCallbackSignal, type EvrotrustCallback } from '../../workflows/definitions';

export async function callbackProbeWorkflow(input: { transactionIds: string[]; timeoutMs: number }): Promise<EvrotrustCallback[]> {
  const received: EvrotrustCallback[] = [];
  setHandler(evrotrustCallbackSignal, (cb) => {
    if (input.transactionIds.includes(cb.transactionID)) received.push(cb);
  });
  await condition(() => received.length > 0, input.timeoutMs);
  return received;
}

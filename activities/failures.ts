// Turns an Evrotrust client error into the Temporal failure that carries its retry verdict.
import { ApplicationFailure } from '@temporalio/common';
import { isEvrotrustError } from '../src/evrotrust/errors';

export function toActivityFailure(err: unknown): unknown {
  if (!isEvrotrustError(err)) return err;
  return ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.retryable,
    nextRetryDelay: err.retryAfterMs,
    details: [err.toJSON()],
  });
}

/** Runs an Evrotrust call and rethrows its error as a Temporal failure. */
export async function evrotrustCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toActivityFailure(err);
  }
}

// The test controls: act as the signer or the clock, bend callbacks, inject vendor API faults,
// shape users, and read the callback log. The same operations are served over HTTP under /sim/api
// (routes/controls.ts) for tests in other processes and for the signer page.

import type { CallbackAttempt, CallbackBehavior, CallbackMode } from './callback-sender';
import { ControlError } from './errors';
import type { FaultInjector, FaultSpec } from './faults';
import type { SignOptions, SimulatorEngine, TransactionView } from './engine';
import type { UserFlags } from './users';
import { HOSTILE_DOWNLOADS, type HostileDownload } from './hostile-downloads';

export type { CallbackAttempt, CallbackBehavior, CallbackMode, FaultSpec, TransactionView, UserFlags };

export interface SimulatorControls {
  /** The signer signs: status 2, `isProcessing` for processingMs, then the callback. */
  sign(transactionID: string, options?: SignOptions): Promise<TransactionView>;
  /** The signer rejects with a reason: status 3 and a callback carrying the reason. */
  reject(transactionID: string, reason: string): Promise<TransactionView>;
  /** The clock passes dateExpire now: status 4 and a callback. */
  expire(transactionID: string): Promise<TransactionView>;
  /**
   * Evrotrust's other outcomes: 5 failed, 7 undeliverable, 8 face recognition failed (final, with
   * a callback like other finals), or 99 on hold (still open; sign/reject/expire work afterwards).
   */
  setStatus(transactionID: string, status: 5 | 7 | 8 | 99): Promise<TransactionView>;
  /** One transaction, or undefined when unknown. */
  transaction(transactionID: string): TransactionView | undefined;
  /** All transactions, newest first; `signer` keeps one signer's (ЕГН, phone or e-mail). */
  transactions(filter?: { signer?: string }): TransactionView[];
  /** Every identifier some transaction names its signer by. */
  signers(): string[];
  /** How callbacks of one transaction, or of all ('*'), are sent; 'normal' resets. */
  callbackBehavior(target: string, behavior: CallbackBehavior): void;
  /** The next `count` calls to a vendor endpoint (e.g. '/document/status') answer `status` and/or hang `delayMs`. */
  failNext(endpoint: string, spec: FaultSpec): void;
  /**
   * The next download of a signed document answers a hostile ZIP (simulator/hostile-downloads.ts):
   * `zip-bomb`, `many-entries`, `lying-header`, or `oversized` (`bytes` long, default 80 MiB).
   * Several calls queue several, served in order.
   */
  nextDownload(kind: HostileDownload, options?: { bytes?: number }): void;
  /** Forgets every queued fault. */
  clearFaults(): void;
  /** Sets (merges) the profile of a user known by an ЕГН, phone or e-mail. */
  setUser(identifier: string, flags: Partial<UserFlags>): UserFlags;
  /** Every callback attempt so far, oldest first. */
  callbacks(): CallbackAttempt[];
}

export function createControls(engine: SimulatorEngine, faults: FaultInjector): SimulatorControls {
  return {
    sign: async (transactionID, options) => engine.sign(transactionID, options),
    reject: async (transactionID, reason) => engine.reject(transactionID, reason),
    expire: async (transactionID) => engine.expire(transactionID),
    setStatus: async (transactionID, status) => engine.setStatus(transactionID, status),
    transaction: (transactionID) => (engine.state.transactions.has(transactionID) ? engine.view(transactionID) : undefined),
    transactions: (filter) => engine.list(filter),
    signers: () => engine.signers(),
    callbackBehavior: (target, behavior) => {
      if (behavior.times !== undefined && (!Number.isInteger(behavior.times) || behavior.times < 1)) {
        throw new ControlError('invalid', 'times must be a positive integer');
      }
      if (target !== '*' && !engine.state.transactions.has(target)) {
        // Ids are random, so nobody can prepare a behavior for a future id: an unknown one is a mistake.
        throw new ControlError('not_found', `unknown transaction ${target}`);
      }
      engine.callbacks.setBehavior(target, behavior);
    },
    failNext: (endpoint, spec) => faults.failNext(endpoint, spec),
    clearFaults: () => faults.clear(),
    nextDownload: (kind, options) => {
      if (!HOSTILE_DOWNLOADS.includes(kind)) throw new ControlError('invalid', `kind must be one of ${HOSTILE_DOWNLOADS.join(', ')}`);
      const bytes = options?.bytes;
      if (bytes !== undefined && (!Number.isInteger(bytes) || bytes < 1024 || bytes > 1024 * 1024 * 1024)) {
        throw new ControlError('invalid', 'bytes must be an integer from 1024 to 1 GiB');
      }
      engine.queueHostileDownload(kind, bytes);
    },
    setUser: (identifier, flags) => {
      if (identifier.trim() === '') throw new ControlError('invalid', 'identifier is required');
      return engine.users.set(identifier, flags);
    },
    callbacks: () => engine.callbacks.attempts(),
  };
}

// Sends callbacks the way Evrotrust does (help portal "Receive a Callback From Evrotrust"; docs/evrotrust.md): POST JSON, from a configurable local address (so
// allowlist tests are real), a total timeout per attempt, a fixed number of attempts in all, and
// anything but 200 counts as a failure. Tests can drop, delay or duplicate callbacks, and read a
// log of every attempt.

import http from 'node:http';
import https from 'node:https';

export type CallbackMode = 'normal' | 'drop' | 'delay' | 'duplicate';

export interface CallbackBehavior {
  mode: CallbackMode;
  /** delay: wait this long before the first attempt. */
  delayMs?: number;
  /** duplicate: how many deliveries in all (default 2), one after the other. */
  copies?: number;
  /** How many callbacks this behavior applies to before it reverts to normal (default: until changed). */
  times?: number;
}

export interface CallbackPayload {
  transactionID: string;
  status: number;
  rejectReason?: string;
}

export interface CallbackAttempt {
  transactionID: string;
  url: string;
  body: CallbackPayload;
  /** 1-based attempt within one delivery; 0 for a dropped callback (nothing was sent). */
  attempt: number;
  /** 1-based delivery number (more than 1 only with `duplicate`). */
  copy: number;
  /** The local address the request left from (the configured one when no socket was opened). */
  sourceAddress: string;
  /** The HTTP status answered, or what went wrong: 'timeout', an error code like 'ECONNREFUSED', 'dropped'. */
  outcome: number | string;
  /** ISO time the attempt finished. */
  at: string;
}

export type DeliveryResult = 'delivered' | 'failed' | 'dropped' | 'aborted';

export interface CallbackDispatcherOptions {
  sourceAddress: string;
  timeoutMs: number;
  attempts: number;
  retryDelayMs: number;
}

/** The simulator is closing: pending waits end with this. */
export class SimulatorClosedError extends Error {
  override readonly name = 'SimulatorClosedError';
  constructor() {
    super('the simulator is closing');
  }
}

/** Resolves after `ms`, or rejects with SimulatorClosedError when the simulator closes. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new SimulatorClosedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new SimulatorClosedError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface PostResult {
  outcome: number | string;
  sourceAddress: string | undefined;
}

function postJson(url: string, payload: CallbackPayload, opts: CallbackDispatcherOptions, signal: AbortSignal): Promise<PostResult> {
  return new Promise((resolve) => {
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    let sourceAddress: string | undefined;
    let settled = false;
    const finish = (outcome: number | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve({ outcome, sourceAddress });
    };
    let req: http.ClientRequest;
    try {
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? https : http;
      req = transport.request(target, {
        method: 'POST',
        localAddress: opts.sourceAddress,
        agent: false, // a fresh connection per attempt, like an independent sender
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'user-agent': 'EvrotrustSimulator/1.0' },
      });
    } catch (err) {
      resolve({ outcome: (err as NodeJS.ErrnoException).code ?? (err as Error).message, sourceAddress });
      return;
    }
    // A total deadline, not socket inactivity: Evrotrust gives up 30 s after sending.
    const timer = setTimeout(() => {
      finish('timeout');
      req.destroy();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      finish('aborted');
      req.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        sourceAddress = socket.localAddress;
      });
    });
    req.on('response', (res) => {
      res.resume(); // the answer's body means nothing to Evrotrust
      res.on('end', () => finish(res.statusCode ?? 0));
      res.on('error', () => finish(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    req.end(body);
  });
}

export class CallbackDispatcher {
  private readonly behaviors = new Map<string, CallbackBehavior>();
  private readonly log: CallbackAttempt[] = [];
  private readonly inFlight = new Set<Promise<DeliveryResult>>();
  private readonly closing = new AbortController();

  constructor(private readonly options: CallbackDispatcherOptions) {}

  /** Sets how callbacks of one transaction, or of all (`'*'`), are sent; a transaction's own setting wins. */
  setBehavior(target: string, behavior: CallbackBehavior): void {
    if (behavior.mode === 'normal' && behavior.times === undefined) this.behaviors.delete(target);
    else this.behaviors.set(target, { ...behavior });
  }

  attempts(): CallbackAttempt[] {
    return this.log.map((a) => ({ ...a, body: { ...a.body } }));
  }

  /** Sends one callback in the background; the promise settles when it is delivered or given up. */
  send(url: string, payload: CallbackPayload): Promise<DeliveryResult> {
    const run = this.run(url, payload).catch((err: unknown): DeliveryResult => {
      if (err instanceof SimulatorClosedError) return 'aborted';
      throw err;
    });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  /** Stops all deliveries (pending retries and open requests) and waits for them to wind down. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private takeBehavior(transactionID: string): CallbackBehavior {
    for (const key of [transactionID, '*']) {
      const behavior = this.behaviors.get(key);
      if (!behavior) continue;
      if (behavior.times !== undefined) {
        behavior.times -= 1;
        if (behavior.times <= 0) this.behaviors.delete(key);
      }
      return behavior;
    }
    return { mode: 'normal' };
  }

  private async run(url: string, payload: CallbackPayload): Promise<DeliveryResult> {
    const signal = this.closing.signal;
    const behavior = this.takeBehavior(payload.transactionID);
    if (behavior.mode === 'drop') {
      this.record(url, payload, 0, 1, undefined, 'dropped');
      return 'dropped';
    }
    if (behavior.mode === 'delay') await sleep(behavior.delayMs ?? 0, signal);
    const copies = behavior.mode === 'duplicate' ? Math.max(1, behavior.copies ?? 2) : 1;
    let result: DeliveryResult = 'failed';
    for (let copy = 1; copy <= copies; copy++) {
      const one = await this.deliver(url, payload, copy, signal);
      if (one === 'aborted') return 'aborted';
      if (one === 'delivered') result = 'delivered';
    }
    return result;
  }

  private async deliver(url: string, payload: CallbackPayload, copy: number, signal: AbortSignal): Promise<DeliveryResult> {
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      const { outcome, sourceAddress } = await postJson(url, payload, this.options, signal);
      if (outcome === 'aborted') return 'aborted';
      this.record(url, payload, attempt, copy, sourceAddress, outcome);
      if (outcome === 200) return 'delivered';
      if (attempt < this.options.attempts) await sleep(this.options.retryDelayMs, signal);
    }
    return 'failed';
  }

  private record(
    url: string,
    body: CallbackPayload,
    attempt: number,
    copy: number,
    sourceAddress: string | undefined,
    outcome: number | string,
  ): void {
    this.log.push({
      transactionID: body.transactionID,
      url,
      body: { ...body },
      attempt,
      copy,
      sourceAddress: sourceAddress ?? this.options.sourceAddress,
      outcome,
      at: new Date().toISOString(),
    });
  }
}

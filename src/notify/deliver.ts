// One delivery attempt of a webhook (Standard Webhooks): POST the JSON body with its webhook-id,
// webhook-timestamp (this attempt's) and webhook-signature headers. 2xx is delivered; anything else
// (another status, a redirect, a timeout, a refused connection) is a failure the caller retries.
// Errors never carry the URL: it may hold a token, and activity failures go into Temporal's history.
import { webhookHeaders } from './signature';

export const DELIVERY_TIMEOUT_MS = 10_000;

export type DeliveryFailureReason = 'status' | 'timeout' | 'network' | 'aborted';

export class NotifyDeliveryError extends Error {
  constructor(
    readonly reason: DeliveryFailureReason,
    message: string,
    /** The receiver's status code, when it answered. */
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'NotifyDeliveryError';
  }
}

export interface DeliveryRequest {
  url: string;
  /** The HMAC key (secretKey() of the `whsec_…` secret). */
  key: Uint8Array;
  /** Stable per event: the same on every retry, so the receiver can drop repeats. */
  msgId: string;
  body: string;
  timeoutMs?: number;
  /** Cancels the attempt (the activity's cancellation). */
  signal?: AbortSignal;
  /** Epoch ms of this attempt (tests); default Date.now(). */
  now?: number;
}

/** Sends one attempt; resolves with the 2xx status, throws NotifyDeliveryError otherwise. */
export async function deliverWebhook(req: DeliveryRequest): Promise<{ statusCode: number }> {
  const timeoutMs = req.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const timestamp = Math.floor((req.now ?? Date.now()) / 1000);
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'evrotrust-signing-webhooks',
        ...webhookHeaders(req.key, req.msgId, timestamp, req.body),
      },
      body: req.body,
      // A redirect is a failure (the spec): the receiver should update the URL instead.
      redirect: 'manual',
      signal,
    });
    // The answer's body is not ours to read; draining it lets the connection be reused.
    await res.arrayBuffer().catch(() => undefined);
  } catch (err) {
    if (timeout.aborted) throw new NotifyDeliveryError('timeout', `the receiver did not answer within ${timeoutMs} ms`);
    if (req.signal?.aborted) throw new NotifyDeliveryError('aborted', 'the delivery attempt was cancelled');
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : (err as Error).name;
    throw new NotifyDeliveryError('network', `the receiver could not be reached (${code})`);
  }
  if (res.status < 200 || res.status > 299) throw new NotifyDeliveryError('status', `the receiver answered ${res.status}`, res.status);
  return { statusCode: res.status };
}

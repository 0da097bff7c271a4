// The two HTTP surfaces a drill talks to: the service's business API (Bearer token) and the
// simulator's test controls. Every call is bounded by a timeout; loopback only.
import { z } from 'zod';

const TIMEOUT_MS = 10_000;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(url, {
    ...rest,
    headers,
    body: json === undefined ? rest.body : JSON.stringify(json),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, body };
}

const startAnswer = z.object({ id: z.string() });

export class ApiClient {
  constructor(
    private baseUrl: () => string,
    private readonly token: string,
  ) {}

  private auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  /** POST /v1/signings; answers the id on 200/202, throws HttpError otherwise. */
  async start(body: unknown): Promise<{ id: string; status: number }> {
    const r = await call(`${this.baseUrl()}/v1/signings`, { method: 'POST', headers: this.auth(), json: body });
    if (r.status !== 200 && r.status !== 202) throw new HttpError(r.status, JSON.stringify(r.body));
    return { id: startAnswer.parse(r.body).id, status: r.status };
  }

  /** POST /v1/signings/:id/withdraw: the HTTP status (202 accepted, 409 already final). */
  async withdraw(id: string): Promise<number> {
    return (await call(`${this.baseUrl()}/v1/signings/${id}/withdraw`, { method: 'POST', headers: this.auth(), json: {} })).status;
  }
}

const transactionView = z.object({
  transactionID: z.string(),
  threadID: z.string(),
  status: z.number(),
  isProcessing: z.boolean(),
  description: z.string(),
});
export type SimTransaction = z.infer<typeof transactionView>;

export type CallbackBehavior = { mode: 'normal' | 'drop' | 'delay' | 'duplicate'; delayMs?: number; copies?: number; times?: number };

export class SimControls {
  constructor(private baseUrl: () => string) {}

  async transactions(): Promise<SimTransaction[]> {
    const r = await call(`${this.baseUrl()}/sim/api/transactions`);
    if (r.status !== 200) throw new HttpError(r.status, JSON.stringify(r.body));
    return z.array(transactionView).parse(r.body);
  }

  /** sign / reject / expire: the HTTP status (200 done, 409 not pending). */
  async act(transactionId: string, action: 'sign' | 'reject' | 'expire'): Promise<number> {
    const json = action === 'reject' ? { reason: 'drill: signer declined' } : {};
    return (await call(`${this.baseUrl()}/sim/api/transactions/${transactionId}/${action}`, { method: 'POST', json })).status;
  }

  async callbackBehavior(target: string, behavior: CallbackBehavior): Promise<void> {
    const r = await call(`${this.baseUrl()}/sim/api/callback-behavior`, { method: 'POST', json: { target, ...behavior } });
    if (r.status !== 204) throw new HttpError(r.status, JSON.stringify(r.body));
  }

  async failNext(endpoint: string, spec: { status: number; count: number }): Promise<void> {
    const r = await call(`${this.baseUrl()}/sim/api/fail-next`, { method: 'POST', json: { endpoint, ...spec } });
    if (r.status !== 204) throw new HttpError(r.status, JSON.stringify(r.body));
  }

  async clearFaults(): Promise<void> {
    const r = await call(`${this.baseUrl()}/sim/api/fail-next`, { method: 'DELETE' });
    if (r.status !== 204) throw new HttpError(r.status, JSON.stringify(r.body));
  }
}

// Typed errors of the Evrotrust client.
//
// Every failure of a call becomes an EvrotrustError carrying what a caller (a Temporal activity)
// needs to decide: `retryable` (retrying the same call can help and is safe), `retryAfterMs`
// (the wait before that retry), and `outcomeUnknown` (the request may have taken effect at Evrotrust
// although we got no usable answer: reconcile, never resend blindly). Messages and fields never hold
// personal data: only the endpoint, the HTTP status, stable codes and Evrotrust's own ids.

export const EVROTRUST_ENDPOINTS = [
  '/user/check/extended',
  '/document/doc/online',
  '/document/doc/offline',
  '/document/doc/offline/activate',
  '/document/doc/offline/activate/resend',
  '/document/status',
  '/document/download',
  '/document/withdraw',
  // Group signing (several documents in one request): Swagger /document/group/*.
  '/document/group/online',
  '/document/group/status',
  '/document/group/download',
  // Every transaction of a thread in one read (Swagger /document/thread/status).
  '/document/thread/status',
] as const;
export type EvrotrustEndpoint = (typeof EVROTRUST_ENDPOINTS)[number];

/**
 * How each endpoint behaves when its outcome is uncertain.
 * - `sideEffect`: the call can change something at Evrotrust (or reach the signer).
 * - `repeatable`: sending it again after an uncertain outcome is harmless.
 *   Creates are not (no idempotency key: a second request reaches the signer again). Activate is
 *   not either: if the first one went through, a repeat can only come back as a misleading
 *   "wrong/expired code"; ask `/document/status` instead. Resend costs at most one more SMS;
 *   withdraw is answered "already withdrawn" the second time.
 */
export const ENDPOINT_SEMANTICS: Readonly<Record<EvrotrustEndpoint, { sideEffect: boolean; repeatable: boolean }>> = {
  '/user/check/extended': { sideEffect: false, repeatable: true },
  '/document/doc/online': { sideEffect: true, repeatable: false },
  '/document/doc/offline': { sideEffect: true, repeatable: false },
  '/document/doc/offline/activate': { sideEffect: true, repeatable: false },
  '/document/doc/offline/activate/resend': { sideEffect: true, repeatable: true },
  '/document/status': { sideEffect: false, repeatable: true },
  '/document/download': { sideEffect: false, repeatable: true },
  '/document/withdraw': { sideEffect: true, repeatable: true },
  '/document/group/online': { sideEffect: true, repeatable: false },
  '/document/group/status': { sideEffect: false, repeatable: true },
  '/document/group/download': { sideEffect: false, repeatable: true },
  '/document/thread/status': { sideEffect: false, repeatable: true },
};

export function isCreateEndpoint(endpoint: EvrotrustEndpoint): boolean {
  return endpoint === '/document/doc/online' || endpoint === '/document/doc/offline' || endpoint === '/document/group/online';
}

/** Stable codes: safe to switch on, to show (OTP ones), and to use as a Temporal failure type. */
export type EvrotrustErrorCode =
  // documented HTTP answers (Swagger v1.0.154; docs/evrotrust.md "HTTP codes")
  | 'invalid-data' // 400
  | 'unauthorized' // 401
  | 'wrong-activation-code' // 432
  | 'user-not-found' // 438
  | 'no-certificate' // 442
  | 'document-not-found' // 443
  | 'activation-code-expired' // 448
  | 'user-data-invalid' // 449
  | 'file-too-large' // 450
  | 'wrong-coverage' // 454
  | 'unsupported-file-type' // 457
  | 'try-again-later' // 469
  // everything else
  | 'unknown-provider-error' // 468 and any other undocumented non-5xx status
  | 'server-error' // 5xx
  | 'timeout' // our per-call timeout fired
  | 'network-error' // connection failed or broke
  | 'aborted' // the caller's AbortSignal fired
  | 'malformed-response' // a 2xx answer that does not match the schema
  | 'invalid-request'; // rejected by the client before anything was sent

/** Plain-data form of an EvrotrustError: survives JSON, structuredClone and Temporal payloads. */
export interface EvrotrustErrorJSON {
  name: string;
  message: string;
  code: EvrotrustErrorCode;
  endpoint: EvrotrustEndpoint;
  httpStatus?: number;
  retryable: boolean;
  retryAfterMs?: number;
  outcomeUnknown: boolean;
  /** For malformed responses / invalid requests: the path of the offending field, e.g. `transactions[0].transactionID`. */
  field?: string;
  transactionID?: string;
  threadID?: string;
}

export interface EvrotrustErrorInit {
  code: EvrotrustErrorCode;
  endpoint: EvrotrustEndpoint;
  httpStatus?: number;
  retryable: boolean;
  retryAfterMs?: number;
  outcomeUnknown: boolean;
  field?: string;
  transactionID?: string;
  threadID?: string;
  /** Kept as `cause` for debugging; never serialized (it could echo request data). */
  cause?: unknown;
}

export class EvrotrustError extends Error {
  readonly code: EvrotrustErrorCode;
  readonly endpoint: EvrotrustEndpoint;
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly outcomeUnknown: boolean;
  readonly field: string | undefined;
  readonly transactionID: string | undefined;
  readonly threadID: string | undefined;

  constructor(message: string, init: EvrotrustErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.endpoint = init.endpoint;
    this.httpStatus = init.httpStatus;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.outcomeUnknown = init.outcomeUnknown;
    this.field = init.field;
    this.transactionID = init.transactionID;
    this.threadID = init.threadID;
  }

  toJSON(): EvrotrustErrorJSON {
    const json: EvrotrustErrorJSON = {
      name: this.name,
      message: this.message,
      code: this.code,
      endpoint: this.endpoint,
      retryable: this.retryable,
      outcomeUnknown: this.outcomeUnknown,
    };
    if (this.httpStatus !== undefined) json.httpStatus = this.httpStatus;
    if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
    if (this.field !== undefined) json.field = this.field;
    if (this.transactionID !== undefined) json.transactionID = this.transactionID;
    if (this.threadID !== undefined) json.threadID = this.threadID;
    return json;
  }
}

/** Evrotrust answered with a non-2xx HTTP status. */
export class EvrotrustHttpError extends EvrotrustError {
  declare readonly httpStatus: number;
}

/** 432 / 448: the signer's SMS code was wrong or has expired; `code` is meant to be shown to the caller. */
export class EvrotrustOtpError extends EvrotrustHttpError {
  declare readonly code: 'wrong-activation-code' | 'activation-code-expired';
}

/** 469: Evrotrust asks to try again in 60 seconds. */
export class EvrotrustRateLimitError extends EvrotrustHttpError {
  declare readonly retryAfterMs: number;
}

/** The per-call timeout fired before a complete answer arrived. */
export class EvrotrustTimeoutError extends EvrotrustError {}

/** The connection failed (before sending: retryable) or broke (after sending: see `outcomeUnknown`). */
export class EvrotrustNetworkError extends EvrotrustError {}

/** The caller's AbortSignal fired (e.g. Temporal activity cancellation). */
export class EvrotrustAbortedError extends EvrotrustError {}

/** A 2xx answer that does not match the documented shape; `field` names the offending field. */
export class EvrotrustResponseError extends EvrotrustError {}

/** The client refused the input before sending anything; `field` names the offending field. */
export class EvrotrustRequestError extends EvrotrustError {}

const DOCUMENTED: Readonly<Record<number, { code: EvrotrustErrorCode; what: string }>> = {
  400: { code: 'invalid-data', what: 'invalid data' },
  401: { code: 'unauthorized', what: 'unauthorized (vendor number, API key or Authorization header)' },
  432: { code: 'wrong-activation-code', what: 'wrong activation code' },
  438: { code: 'user-not-found', what: 'user not found' },
  442: { code: 'no-certificate', what: 'the user has no certificate' },
  443: { code: 'document-not-found', what: 'document not found' },
  448: { code: 'activation-code-expired', what: 'activation code expired' },
  449: { code: 'user-data-invalid', what: 'user data not valid' },
  450: { code: 'file-too-large', what: 'file too large' },
  454: { code: 'wrong-coverage', what: 'wrong coverage' },
  457: { code: 'unsupported-file-type', what: 'file type not supported' },
  469: { code: 'try-again-later', what: 'try again in 60 seconds' },
};

/** 469 says "try again in 60 seconds" (Swagger /document/doc/offline); a Retry-After header, if Evrotrust ever sends one, is more precise. */
export const RATE_LIMIT_RETRY_AFTER_MS = 60_000;

function parseRetryAfter(header: string | null | undefined): number | undefined {
  if (header == null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - Date.now());
}

export interface RequestRefs {
  transactionID?: string;
  threadID?: string;
}

/**
 * The error for a non-2xx answer.
 *
 * 468 is not described for our endpoints; elsewhere in the same Swagger it means "certificate
 * expired". We treat it, and any other undocumented non-5xx status, as `unknown-provider-error`:
 * not retryable (a 4xx from Evrotrust is a deliberate refusal and a state like an expired
 * certificate does not heal within a retry policy), and on a create call `outcomeUnknown` (we cannot
 * prove nothing was created, so the caller must reconcile instead of sending again).
 */
export function errorForHttpStatus(
  endpoint: EvrotrustEndpoint,
  httpStatus: number,
  refs: RequestRefs = {},
  retryAfterHeader?: string | null,
): EvrotrustHttpError {
  const semantics = ENDPOINT_SEMANTICS[endpoint];
  const base = { endpoint, httpStatus, ...refs };
  const documented = DOCUMENTED[httpStatus];

  if (httpStatus === 469) {
    const retryAfterMs = parseRetryAfter(retryAfterHeader) ?? RATE_LIMIT_RETRY_AFTER_MS;
    // 469 is a refusal: nothing was done, so even a create may be sent again (after the wait).
    return new EvrotrustRateLimitError(`Evrotrust ${endpoint} answered 469: try again in ${Math.round(retryAfterMs / 1000)} s`, {
      ...base,
      code: 'try-again-later',
      retryable: true,
      retryAfterMs,
      outcomeUnknown: false,
    });
  }
  if (httpStatus === 432 || httpStatus === 448) {
    const d = DOCUMENTED[httpStatus]!;
    return new EvrotrustOtpError(`Evrotrust ${endpoint} answered ${httpStatus}: ${d.what}`, {
      ...base,
      code: d.code,
      retryable: false,
      outcomeUnknown: false,
    });
  }
  if (documented) {
    return new EvrotrustHttpError(`Evrotrust ${endpoint} answered ${httpStatus}: ${documented.what}`, {
      ...base,
      code: documented.code,
      retryable: false,
      outcomeUnknown: false,
    });
  }
  if (httpStatus >= 500 && httpStatus <= 599) {
    // The server may have acted before failing: reads are safe to repeat, creates are not.
    return new EvrotrustHttpError(`Evrotrust ${endpoint} answered ${httpStatus}: server error`, {
      ...base,
      code: 'server-error',
      retryable: semantics.repeatable,
      outcomeUnknown: semantics.sideEffect,
    });
  }
  return new EvrotrustHttpError(`Evrotrust ${endpoint} answered ${httpStatus}: undocumented status, treated as an unknown provider error`, {
    ...base,
    code: 'unknown-provider-error',
    retryable: false,
    outcomeUnknown: isCreateEndpoint(endpoint),
  });
}

export function isEvrotrustError(value: unknown): value is EvrotrustError {
  return value instanceof EvrotrustError;
}

/**
 * True for the answers Evrotrust gives while a document is not visible yet: 443 from
 * `/document/status` shortly after a create, and 443 or 438 from `/document/download` right after
 * status 2 (DigitalSofia treats both as "still signing"; docs/evrotrust.md). The error stays a
 * non-retryable typed error; callers that poll may read it as "not yet" and ask again later.
 */
export function isNotYetVisible(error: unknown): error is EvrotrustHttpError {
  if (!(error instanceof EvrotrustHttpError)) return false;
  if (error.endpoint === '/document/status') return error.httpStatus === 443;
  if (error.endpoint === '/document/download') return error.httpStatus === 443 || error.httpStatus === 438;
  return false;
}

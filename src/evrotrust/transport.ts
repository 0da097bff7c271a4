// One vendor API call on the wire: a POST to `<baseUrl><endpoint>`, `Authorization: <hex HMAC>` over
// the exact bytes sent (for multipart, the `data` string), a per-call timeout joined with the
// caller's cancellation, and every failure (transport, HTTP status, malformed answer, refused input)
// turned into a typed EvrotrustError that says whether retrying can help (errors.ts). Logs carry the
// endpoint, HTTP status, duration and Evrotrust ids only: never personal data.
import type { z } from 'zod';
import { authorizationHeader } from './auth';
import {
  ENDPOINT_SEMANTICS,
  EvrotrustAbortedError,
  EvrotrustError,
  EvrotrustNetworkError,
  EvrotrustRequestError,
  EvrotrustResponseError,
  EvrotrustTimeoutError,
  errorForHttpStatus,
  type EvrotrustEndpoint,
  type RequestRefs,
} from './errors';
import { contentTypeFor, uploadFilename } from './files';
import type { CallOptions, EvrotrustLogger } from './types';
import { firstZodIssue } from '../lib/zod-issues';
import { DownloadTooLargeError } from './limits';

/**
 * JSON text with every non-ASCII character written as a \\uXXXX escape (UTF-16 units, so astral
 * characters become surrogate pairs). Equivalent JSON, ASCII bytes only: neither production
 * integration ever sent raw UTF-8 (DigitalSofia's Jackson escapes, EPZEU transliterates), and the
 * HMAC is computed over these exact bytes.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Error codes of Node's fetch (undici) that mean the connection was never made: nothing was sent. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== 'object' || error === null) return [];
  const out: string[] = [];
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.push(code);
  out.push(...errorCodes((error as { cause?: unknown }).cause, depth + 1));
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested)) for (const e of nested) out.push(...errorCodes(e, depth + 1));
  return out;
}

/** True when the connection was never established (refused, DNS, TLS): nothing reached Evrotrust. */
export function failedBeforeSending(error: unknown): boolean {
  return errorCodes(error).some((c) => NOT_SENT_CODES.has(c));
}

export type Payload =
  | { kind: 'json'; text: string }
  | { kind: 'multipart'; data: string; file: { filename: string; content: Uint8Array } }
  /** `/document/group/online`: every file as a `documents[]` part, in document order (as DigitalSofia's Java client sends them). */
  | { kind: 'multipart-group'; data: string; files: { filename: string; content: Uint8Array }[] };

export interface CallContext {
  endpoint: EvrotrustEndpoint;
  refs: RequestRefs;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** A JSON body, written as ASCII (`asciiJson`): what is signed is what is sent. */
export function jsonPayload(value: unknown): Payload {
  return { kind: 'json', text: asciiJson(value) };
}

export interface TransportOptions {
  /** Normalized: no trailing slash. */
  baseUrl: string;
  apiKey: string;
  /** Calls without a file. */
  timeoutMs: number;
  /** Calls that carry a file (send online/offline, download). */
  transferTimeoutMs: number;
  logger?: EvrotrustLogger | undefined;
}

export interface Transport {
  /** The context of one call: its endpoint, the ids it is about, its timeout and cancellation. */
  context(endpoint: EvrotrustEndpoint, refs: RequestRefs, call: CallOptions | undefined, transfer: boolean): CallContext;
  /** Logs the failure and throws it. */
  fail(ctx: CallContext, error: EvrotrustError, startedAt: number): never;
  /** Refuses the caller's input before anything is sent, naming the field. */
  invalidInput(endpoint: EvrotrustEndpoint, refs: RequestRefs, error: z.ZodError): never;
  requireId(endpoint: EvrotrustEndpoint, name: string, value: unknown): void;
  /** The error for a 2xx answer that is not what the endpoint promises. */
  malformed(ctx: CallContext, httpStatus: number, field: string, problem: string, refs?: RequestRefs): EvrotrustResponseError;
  /** With `maxBytes`, a longer answer is refused (Content-Length first, then while reading) with a DownloadTooLargeError. */
  send(
    ctx: CallContext,
    payload: Payload,
    responseKind: 'json' | 'bytes' | 'empty',
    maxBytes?: number,
  ): Promise<{ status: number; body: Uint8Array }>;
  sendJson<T extends z.ZodType>(ctx: CallContext, payload: Payload, schema: T): Promise<{ httpStatus: number; value: z.output<T> }>;
}

export function createTransport(options: TransportOptions): Transport {
  const { baseUrl, apiKey, logger, timeoutMs, transferTimeoutMs } = options;

  function context(endpoint: EvrotrustEndpoint, refs: RequestRefs, call: CallOptions | undefined, transfer: boolean): CallContext {
    return { endpoint, refs, timeoutMs: call?.timeoutMs ?? (transfer ? transferTimeoutMs : timeoutMs), signal: call?.signal };
  }

  function logFields(ctx: CallContext, extra: Record<string, unknown>): Record<string, unknown> {
    return { endpoint: ctx.endpoint, ...ctx.refs, ...extra };
  }

  function fail(ctx: CallContext, error: EvrotrustError, startedAt: number): never {
    logger?.warn?.(
      'evrotrust call failed',
      logFields(ctx, {
        httpStatus: error.httpStatus,
        code: error.code,
        retryable: error.retryable,
        outcomeUnknown: error.outcomeUnknown,
        field: error.field,
        durationMs: Math.round(performance.now() - startedAt),
      }),
    );
    throw error;
  }

  function invalidInput(endpoint: EvrotrustEndpoint, refs: RequestRefs, error: z.ZodError): never {
    const { path: field, message: problem } = firstZodIssue(error);
    const err = new EvrotrustRequestError(`Evrotrust ${endpoint}: refused before sending, ${field}: ${problem}`, {
      code: 'invalid-request',
      endpoint,
      retryable: false,
      outcomeUnknown: false,
      field,
      ...refs,
    });
    logger?.warn?.('evrotrust call refused', { endpoint, ...refs, code: err.code, field });
    throw err;
  }

  function requireId(endpoint: EvrotrustEndpoint, name: string, value: unknown): void {
    if (typeof value !== 'string' || value === '') {
      throw new EvrotrustRequestError(`Evrotrust ${endpoint}: refused before sending, ${name} must be a non-empty string`, {
        code: 'invalid-request',
        endpoint,
        retryable: false,
        outcomeUnknown: false,
        field: name,
      });
    }
  }

  /** The error for a failure of fetch or of reading the body, classified by what we know was sent. */
  function transportError(ctx: CallContext, timeoutSignal: AbortSignal, cause: unknown, responseStarted: boolean): EvrotrustError {
    const { endpoint, refs } = ctx;
    const { sideEffect, repeatable } = ENDPOINT_SEMANTICS[endpoint];
    if (timeoutSignal.aborted) {
      return new EvrotrustTimeoutError(`Evrotrust ${endpoint}: no complete answer within ${ctx.timeoutMs} ms`, {
        code: 'timeout',
        endpoint,
        retryable: repeatable,
        outcomeUnknown: sideEffect,
        cause,
        ...refs,
      });
    }
    if (ctx.signal?.aborted) {
      return new EvrotrustAbortedError(`Evrotrust ${endpoint}: aborted by the caller`, {
        code: 'aborted',
        endpoint,
        retryable: repeatable,
        outcomeUnknown: sideEffect,
        cause,
        ...refs,
      });
    }
    if (!responseStarted && failedBeforeSending(cause)) {
      // The connection never opened: nothing reached Evrotrust, so even a create may be retried.
      return new EvrotrustNetworkError(`Evrotrust ${endpoint}: could not connect (${errorCodes(cause)[0] ?? 'unknown'})`, {
        code: 'network-error',
        endpoint,
        retryable: true,
        outcomeUnknown: false,
        cause,
        ...refs,
      });
    }
    return new EvrotrustNetworkError(
      `Evrotrust ${endpoint}: connection failed after the request was sent (${errorCodes(cause)[0] ?? 'unknown'})`,
      {
        code: 'network-error',
        endpoint,
        retryable: repeatable,
        outcomeUnknown: sideEffect,
        cause,
        ...refs,
      },
    );
  }

  function malformed(
    ctx: CallContext,
    httpStatus: number,
    field: string,
    problem: string,
    refs: RequestRefs = ctx.refs,
  ): EvrotrustResponseError {
    // A 2xx means Evrotrust acted: on a create, something may exist that we cannot name.
    const { sideEffect } = ENDPOINT_SEMANTICS[ctx.endpoint];
    return new EvrotrustResponseError(`Evrotrust ${ctx.endpoint}: malformed answer, ${field}: ${problem}`, {
      code: 'malformed-response',
      endpoint: ctx.endpoint,
      httpStatus,
      retryable: false,
      outcomeUnknown: sideEffect,
      field,
      ...refs,
    });
  }

  /**
   * Sends one request and returns the raw body of a 2xx answer. Everything else throws.
   * The signed bytes are the sent bytes: for JSON the UTF-8 encoding is done once and both signed
   * and sent; for multipart the `data` string is signed and sent as the form field (JSON.stringify
   * output has no raw line breaks, so FormData's CRLF normalization cannot alter it).
   */
  async function send(
    ctx: CallContext,
    payload: Payload,
    responseKind: 'json' | 'bytes' | 'empty',
    maxBytes?: number,
  ): Promise<{ status: number; body: Uint8Array }> {
    const url = baseUrl + ctx.endpoint;
    const timeoutSignal = AbortSignal.timeout(ctx.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([timeoutSignal, ctx.signal]) : timeoutSignal;
    const startedAt = performance.now();

    let body: Uint8Array | FormData;
    const headers: Record<string, string> = {
      accept: responseKind === 'bytes' ? 'application/zip, application/octet-stream, */*' : 'application/json',
    };
    if (payload.kind === 'json') {
      const bytes = Buffer.from(payload.text, 'utf8');
      headers['content-type'] = 'application/json';
      headers.authorization = authorizationHeader(apiKey, bytes);
      body = bytes;
    } else {
      const form = new FormData();
      form.append('data', payload.data);
      const files = payload.kind === 'multipart' ? [payload.file] : payload.files;
      for (const file of files) {
        form.append(
          payload.kind === 'multipart' ? 'document' : 'documents[]',
          new Blob([file.content], { type: contentTypeFor(file.filename) }),
          uploadFilename(file.filename),
        );
      }
      headers.authorization = authorizationHeader(apiKey, payload.data);
      body = form;
    }

    if (ctx.signal?.aborted) {
      fail(ctx, transportError(ctx, timeoutSignal, ctx.signal.reason, false), startedAt);
    }

    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'error' });
    } catch (error) {
      fail(ctx, transportError(ctx, timeoutSignal, error, false), startedAt);
    }

    if (response.status < 200 || response.status > 299) {
      // Drain so the connection can be reused; the body is not used (it could echo personal data).
      await response.body?.cancel().catch(() => undefined);
      fail(ctx, errorForHttpStatus(ctx.endpoint, response.status, ctx.refs, response.headers.get('retry-after')), startedAt);
    }

    let bytes: Uint8Array;
    try {
      bytes = maxBytes === undefined ? new Uint8Array(await response.arrayBuffer()) : await readAtMost(response, maxBytes);
    } catch (error) {
      if (error instanceof DownloadTooLargeError) {
        logger?.warn?.('evrotrust answer too large', logFields(ctx, { httpStatus: response.status, limit: error.limit, max: error.max }));
        throw error;
      }
      fail(ctx, transportError(ctx, timeoutSignal, error, true), startedAt);
    }
    // Info: one line per call (endpoint, ids, status, size, duration), the trail operators need.
    logger?.info?.(
      'evrotrust call',
      logFields(ctx, {
        httpStatus: response.status,
        bytes: bytes.byteLength,
        durationMs: Math.round(performance.now() - startedAt),
      }),
    );
    return { status: response.status, body: bytes };
  }

  /**
   * The body, refused past `maxBytes`: by its Content-Length before reading, else as soon as the
   * bytes read pass the cap (the rest is not read).
   */
  async function readAtMost(response: Response, maxBytes: number): Promise<Uint8Array> {
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new DownloadTooLargeError('download-bytes', declared, maxBytes, `Content-Length ${declared} > ${maxBytes} bytes`);
    }
    if (!response.body) return new Uint8Array(0);
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new DownloadTooLargeError('download-bytes', total, maxBytes, `more than ${maxBytes} bytes (reading stopped at ${total})`);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks);
  }

  /** Sends, then parses the JSON answer with `schema`; a mismatch names the field. */
  async function sendJson<T extends z.ZodType>(
    ctx: CallContext,
    payload: Payload,
    schema: T,
  ): Promise<{ httpStatus: number; value: z.output<T> }> {
    const startedAt = performance.now();
    const { status, body } = await send(ctx, payload, 'json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch {
      fail(ctx, malformed(ctx, status, '(body)', 'not JSON'), startedAt);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const { path: field, message: problem } = firstZodIssue(result.error);
      fail(ctx, malformed(ctx, status, field, problem), startedAt);
    }
    return { httpStatus: status, value: result.data };
  }

  return { context, fail, invalidInput, requireId, malformed, send, sendJson };
}

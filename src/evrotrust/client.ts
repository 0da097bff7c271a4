// Typed client of the Evrotrust vendor API (facts and their sources: docs/evrotrust.md).
//
// Every call: one POST, `vendorNumber` in the body, `Authorization: <hex HMAC>` over the exact bytes
// sent (for multipart, the `data` string), a per-call timeout, the answer validated with zod, and any
// failure turned into a typed EvrotrustError that says whether retrying can help (errors.ts).
// Logs carry the endpoint, HTTP status, duration and Evrotrust ids only: never personal data.
import { createHash, createPublicKey } from 'node:crypto';
import type { z } from 'zod';
import { authorizationHeader } from './auth';
import { publicKeyParam } from './keys';
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
import {
  COVERAGES,
  OTP_PHONE_PATTERN,
  SIGNATURE_TYPES,
  sendOfflineInputSchema,
  sendOfflineResponseSchema,
  sendOnlineInputSchema,
  sendOnlineResponseSchema,
  signerSchema,
  statusResponseSchema,
  userCheckResponseSchema,
  withdrawResponseSchema,
  type SignatureType,
} from './schemas';
import { isFinalStatus, isKnownStatus, statusName, type StatusName } from './statuses';
import { firstZodIssue } from '../lib/zod-issues';
import type { SignerIdentity } from '../lib/signer';

// ---------- public types ----------

/** Message-first, like Temporal's activity logger and `console`; pass either directly. */
export interface EvrotrustLogger {
  debug?(message: string, fields: Record<string, unknown>): void;
  info?(message: string, fields: Record<string, unknown>): void;
  warn?(message: string, fields: Record<string, unknown>): void;
}

export interface EvrotrustClientOptions {
  /** Vendor API base, e.g. `https://et.test.iteco.bg/vendor` (a trailing slash is fine). */
  baseUrl: string;
  vendorNumber: string;
  apiKey: string;
  /** The RSA public key (SPKI PEM) sent with each document; Evrotrust encrypts the signed file to it. */
  publicKeyPem: string;
  /** Timeout of calls without a file. Default 30 s. */
  timeoutMs?: number;
  /** Timeout of calls that carry a file (send online/offline, download). Default 120 s. */
  transferTimeoutMs?: number;
  logger?: EvrotrustLogger;
  /** What every send carries unless the call overrides it; defaults in DEFAULT_SIGNING_OPTIONS. */
  signing?: Partial<SigningOptions>;
}

/**
 * Signature defaults (docs/evrotrust.md "Signature type, coverage, certificate type").
 * The type is picked per file by `signInfoFor`: PDF → pdfType, XML → xmlType, anything else → otherType.
 */
export interface SigningOptions {
  /** `PDF2` (PAdES baseline + long term), as EPZEU sends; DigitalSofia sends `PDF1`. */
  pdfType: SignatureType;
  /** `XML1` (XAdES baseline), the Swagger's; DigitalSofia sends the undocumented `XML3`. */
  xmlType: SignatureType;
  /** `CAD1` ("sign any file type"), as DigitalSofia sends for other files. */
  otherType: SignatureType;
  /** `SHA256`, the only algorithm the Swagger names. */
  algorithm: string;
  /** Euro; 20000 as both production integrations send (0 would mean unlimited). */
  coverage: EvrotrustCoverage;
  /** `document.certificateType`: 1 = qualified signature (DigitalSofia); null = not sent. */
  certificateType: number | null;
}

export const DEFAULT_SIGNING_OPTIONS: Readonly<SigningOptions> = {
  pdfType: 'PDF2',
  xmlType: 'XML1',
  otherType: 'CAD1',
  algorithm: 'SHA256',
  coverage: 20000,
  certificateType: 1,
};

export interface CallOptions {
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** The caller's cancellation (e.g. Temporal's `Context.current().cancellationSignal`). */
  signal?: AbortSignal;
}

/**
 * A person at Evrotrust (src/lib/signer.ts): at least one of identificationNumber (ЕГН), phone,
 * email; `country` qualifies identificationNumber only. Requests name the person by exactly one of
 * them (`pickIdentifier`).
 */
export type EvrotrustSigner = SignerIdentity;

export interface UserCheckResult {
  isRegistered: boolean;
  /** Gate on this before sending a document. Derived when Evrotrust omits it (see `isReadyToSignDerived`). */
  isReadyToSign: boolean;
  /** True when the answer had no `isReadyToSign` and the client derived it: registered, identified, not rejected. */
  isReadyToSignDerived: boolean;
  isIdentified?: boolean;
  isRejected?: boolean;
  /** The reason as text; an integer code is kept in its string form (`0` → `"0"`). */
  rejectReason: string | null;
  /** The reason as an integer code when Evrotrust sent one (the help portal answers `0`), else null. */
  rejectReasonCode: number | null;
  isSupervised?: boolean;
  hasConfirmedPhone?: boolean;
  hasConfirmedEmail?: boolean;
}

/** Coverage amounts Evrotrust documents; other numbers are passed through (Evrotrust answers 454). */
export type EvrotrustCoverage = 0 | 500 | 20000 | 100000 | 250000;

export interface SignInfo {
  /** e.g. `PDF2`; see SIGNATURE_TYPES. */
  type: SignatureType;
  /** Default: the client's `signing.algorithm` (SHA256). */
  algorithm?: string;
}

export interface SendOnlineInput {
  document: {
    filename: string;
    content: Uint8Array;
    /** Shown to the signer; Evrotrust allows up to 4000 characters. */
    description: string;
    /** When Evrotrust expires the request (status 4): a Date, or Unix seconds. */
    dateExpire: Date | number;
    /** Default: the client's `signing.coverage` (20000). */
    coverage?: EvrotrustCoverage;
    /** PDF only: default 1 (the signer previews it in the app). Other files always go with 0. */
    preview?: boolean | 0 | 1;
  };
  /** One transaction per signer, returned in the same order. */
  signers: EvrotrustSigner[];
  /** Evrotrust POSTs to this URL plus `/document/ready`. */
  urlCallback: string;
  /** Overrides the type picked by `signInfoFor` (e.g. a per-signing PAdES level). */
  signInfo?: SignInfo;
}

export interface SendOnlineResult<S extends EvrotrustSigner = EvrotrustSigner> {
  threadID: string;
  transactions: Array<S & { transactionID: string }>;
}

export interface SendOfflineInput {
  document: {
    filename: string;
    content: Uint8Array;
    description: string;
    /** Default: the client's `signing.coverage` (20000). */
    coverage?: EvrotrustCoverage;
  };
  /**
   * OTP signing: Evrotrust texts the code to `phone`, which must match the Swagger's "+[0-9]" (e.g. +359888123456).
   * Its own shape, not EvrotrustSigner: the offline user needs identificationNumber and phone, and may carry a documentNumber.
   */
  signer: { identificationNumber: string; documentNumber?: string; phone: string; email?: string };
  /** Evrotrust POSTs to this URL plus `/document/offline/ready`. */
  urlCallback: string;
  /** Overrides the type picked by `signInfoFor`. */
  signInfo?: SignInfo;
}

export interface StatusResult {
  /** The raw code (1 pending … 99 on hold); unknown codes are passed through. */
  status: number;
  statusName: StatusName;
  isProcessing: boolean;
  /** Final per statuses.ts: 2 only once not processing, 3–8 always. */
  isFinal: boolean;
  rejectReason: string | null;
}

export type WithdrawStatus = 'withdrawn' | 'not-withdrawn' | 'already-withdrawn';
export interface WithdrawResult {
  status: WithdrawStatus;
  /** The raw code: 1, 2 or 3. */
  code: 1 | 2 | 3;
}

export interface EvrotrustClient {
  checkUser(user: EvrotrustSigner, options?: CallOptions): Promise<UserCheckResult>;
  sendOnline<S extends EvrotrustSigner>(input: SendOnlineInput & { signers: S[] }, options?: CallOptions): Promise<SendOnlineResult<S>>;
  sendOffline(input: SendOfflineInput, options?: CallOptions): Promise<{ transactionID: string }>;
  activateOffline(transactionID: string, activationCode: string, options?: CallOptions): Promise<void>;
  resendOfflineCode(transactionID: string, phone: string, options?: CallOptions): Promise<void>;
  status(transactionID: string, options?: CallOptions): Promise<StatusResult>;
  /** The ZIP as Evrotrust sends it; decrypt with `decryptDownload`. */
  download(transactionID: string, options?: CallOptions): Promise<Uint8Array>;
  withdraw(threadID: string, options?: CallOptions): Promise<WithdrawResult>;
}

// ---------- pure helpers (exported for tests and other modules) ----------

export function sha512Hex(content: Uint8Array): string {
  return createHash('sha512').update(content).digest('hex');
}

export function toUnixSeconds(dateExpire: Date | number): number {
  return dateExpire instanceof Date ? Math.floor(dateExpire.getTime() / 1000) : dateExpire;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  xml: 'application/xml',
  txt: 'text/plain',
  json: 'application/json',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  zip: 'application/zip',
};

export function contentTypeFor(filename: string): string {
  const ext = /\.([^.]+)$/.exec(filename)?.[1]?.toLowerCase();
  return (ext && CONTENT_TYPES[ext]) || 'application/octet-stream';
}

export function isPdf(file: { filename: string; contentType?: string }): boolean {
  return (file.contentType ?? contentTypeFor(file.filename)).toLowerCase().split(';')[0]?.trim() === 'application/pdf';
}

function isXml(file: { filename: string; contentType?: string }): boolean {
  const type = (file.contentType ?? contentTypeFor(file.filename)).toLowerCase().split(';')[0]?.trim() ?? '';
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}

/** `application/pdf` or `application/xml` when the first bytes say so, else undefined (the name decides). */
export function sniffContentType(content: Uint8Array): string | undefined {
  const head = Buffer.from(content.buffer, content.byteOffset, Math.min(content.byteLength, 256)).toString('latin1');
  if (head.startsWith('%PDF-')) return 'application/pdf';
  if (/^(\xef\xbb\xbf)?\s*<\?xml[\s?]/.test(head)) return 'application/xml';
  return undefined;
}

/**
 * The `signInfo` for a file, by its content type (given, or from the file name's extension):
 * PDF → `pdfType`, XML → `xmlType`, anything else → `otherType` (CAD: "sign any file type"), as
 * DigitalSofia picks by content type. Pure; exported for the workflow side and tests.
 */
export function signInfoFor(
  file: { filename: string; contentType?: string },
  options: Partial<SigningOptions> = {},
): { type: SignatureType; algorithm: string } {
  const o = { ...DEFAULT_SIGNING_OPTIONS, ...options };
  const type = isPdf(file) ? o.pdfType : isXml(file) ? o.xmlType : o.otherType;
  return { type, algorithm: o.algorithm };
}

/**
 * The one identifier a request names a person by: Swagger `/document/doc/online`, users: "in every
 * item of the array has to be added only one of the parameters". ЕГН first (with `country` when the
 * caller gave one: the Swagger pairs it with identificationNumber only), else phone, else e-mail.
 */
export function pickIdentifier(user: EvrotrustSigner): EvrotrustSigner {
  if (user.identificationNumber !== undefined) {
    return user.country !== undefined
      ? { identificationNumber: user.identificationNumber, country: user.country.toUpperCase() }
      : { identificationNumber: user.identificationNumber };
  }
  if (user.phone !== undefined) return { phone: user.phone };
  if (user.email !== undefined) return { email: user.email };
  return {};
}

/**
 * JSON text with every non-ASCII character written as a \\uXXXX escape (UTF-16 units, so astral
 * characters become surrogate pairs). Equivalent JSON, ASCII bytes only: neither production
 * integration ever sent raw UTF-8 (DigitalSofia's Jackson escapes, EPZEU transliterates), and the
 * HMAC is computed over these exact bytes.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Bulgarian Streamlined System (the official transliteration), for file names only.
const BG_LATIN: Readonly<Record<string, string>> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm',
  н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'h', ц: 'ts', ч: 'ch', ш: 'sh',
  щ: 'sht', ъ: 'a', ь: 'y', ю: 'yu', я: 'ya',
};

/** Longest multipart file name the client sends (the Swagger sets none; 100 keeps clear of every common limit). */
export const MAX_UPLOAD_FILENAME_CHARS = 100;

/**
 * The file name sent in the multipart `document` part: the base name, Cyrillic transliterated,
 * accents dropped, every character outside `A-Z a-z 0-9 . _ -` replaced by `_` (runs collapsed),
 * capped at 100 characters with the extension kept; `document` when nothing is left.
 * Evrotrust documents no rule; this keeps the name ASCII, quote-free and short (docs/evrotrust.md).
 */
export function uploadFilename(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const latin = [...base.normalize('NFC')]
    .map((c) => {
      const lower = c.toLowerCase();
      const t = BG_LATIN[lower];
      if (t === undefined) return c;
      return c === lower ? t : t.charAt(0).toUpperCase() + t.slice(1);
    })
    .join('')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '');
  const clean = (part: string): string => part.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/_+/g, '_').replace(/^[._-]+|[._-]+$/g, '');
  const dot = latin.lastIndexOf('.');
  const rawExt = dot >= 0 ? latin.slice(dot + 1) : '';
  const ext = /^[A-Za-z0-9]{1,10}$/.test(rawExt) ? rawExt : '';
  let stem = clean(ext ? latin.slice(0, dot) : latin);
  if (stem === '') stem = 'document';
  const room = MAX_UPLOAD_FILENAME_CHARS - (ext ? ext.length + 1 : 0);
  stem = stem.slice(0, room).replace(/[._-]+$/, '') || 'document';
  return ext ? `${stem}.${ext}` : stem;
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

// ---------- the client ----------

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_TRANSFER_TIMEOUT_MS = 120_000;
const WITHDRAW_STATUS: Readonly<Record<1 | 2 | 3, WithdrawStatus>> = {
  1: 'withdrawn',
  2: 'not-withdrawn',
  3: 'already-withdrawn',
};

type Payload =
  | { kind: 'json'; text: string }
  | { kind: 'multipart'; data: string; file: { filename: string; content: Uint8Array } };

interface CallContext {
  endpoint: EvrotrustEndpoint;
  refs: RequestRefs;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

export function createEvrotrustClient(options: EvrotrustClientOptions): EvrotrustClient {
  const { vendorNumber, apiKey, logger } = options;
  if (!vendorNumber) throw new TypeError('createEvrotrustClient: vendorNumber is required');
  if (!apiKey) throw new TypeError('createEvrotrustClient: apiKey is required');
  const baseUrl = new URL(options.baseUrl).toString().replace(/\/+$/, '');
  try {
    // Fail at start-up, not on the first signing, when the key is not a public key PEM.
    createPublicKey(options.publicKeyPem);
  } catch {
    throw new TypeError('createEvrotrustClient: publicKeyPem is not a valid public key PEM');
  }
  if (!options.publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new TypeError('createEvrotrustClient: publicKeyPem must be an SPKI "BEGIN PUBLIC KEY" PEM');
  }
  const publicKey = publicKeyParam(options.publicKeyPem); // Base64 of the whole PEM text (docs/evrotrust.md)
  const signing = resolveSigningOptions(options.signing);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transferTimeoutMs = options.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS;

  function context(endpoint: EvrotrustEndpoint, refs: RequestRefs, call: CallOptions | undefined, transfer: boolean): CallContext {
    return { endpoint, refs, timeoutMs: call?.timeoutMs ?? (transfer ? transferTimeoutMs : timeoutMs), signal: call?.signal };
  }

  function logFields(ctx: CallContext, extra: Record<string, unknown>): Record<string, unknown> {
    return { endpoint: ctx.endpoint, ...ctx.refs, ...extra };
  }

  function fail(ctx: CallContext, error: EvrotrustError, startedAt: number): never {
    logger?.warn?.('evrotrust call failed', logFields(ctx, {
      httpStatus: error.httpStatus,
      code: error.code,
      retryable: error.retryable,
      outcomeUnknown: error.outcomeUnknown,
      field: error.field,
      durationMs: Math.round(performance.now() - startedAt),
    }));
    throw error;
  }

  function invalidInput(endpoint: EvrotrustEndpoint, refs: RequestRefs, error: z.ZodError): never {
    const { path: field, message: problem } = firstZodIssue(error);
    const err = new EvrotrustRequestError(`Evrotrust ${endpoint}: refused before sending, ${field}: ${problem}`, {
      code: 'invalid-request', endpoint, retryable: false, outcomeUnknown: false, field, ...refs,
    });
    logger?.warn?.('evrotrust call refused', { endpoint, ...refs, code: err.code, field });
    throw err;
  }

  function requireId(endpoint: EvrotrustEndpoint, name: string, value: unknown): void {
    if (typeof value !== 'string' || value === '') {
      throw new EvrotrustRequestError(`Evrotrust ${endpoint}: refused before sending, ${name} must be a non-empty string`, {
        code: 'invalid-request', endpoint, retryable: false, outcomeUnknown: false, field: name,
      });
    }
  }

  /** The error for a failure of fetch or of reading the body, classified by what we know was sent. */
  function transportError(ctx: CallContext, timeoutSignal: AbortSignal, cause: unknown, responseStarted: boolean): EvrotrustError {
    const { endpoint, refs } = ctx;
    const { sideEffect, repeatable } = ENDPOINT_SEMANTICS[endpoint];
    if (timeoutSignal.aborted) {
      return new EvrotrustTimeoutError(`Evrotrust ${endpoint}: no complete answer within ${ctx.timeoutMs} ms`, {
        code: 'timeout', endpoint, retryable: repeatable, outcomeUnknown: sideEffect, cause, ...refs,
      });
    }
    if (ctx.signal?.aborted) {
      return new EvrotrustAbortedError(`Evrotrust ${endpoint}: aborted by the caller`, {
        code: 'aborted', endpoint, retryable: repeatable, outcomeUnknown: sideEffect, cause, ...refs,
      });
    }
    if (!responseStarted && failedBeforeSending(cause)) {
      // The connection never opened: nothing reached Evrotrust, so even a create may be retried.
      return new EvrotrustNetworkError(`Evrotrust ${endpoint}: could not connect (${errorCodes(cause)[0] ?? 'unknown'})`, {
        code: 'network-error', endpoint, retryable: true, outcomeUnknown: false, cause, ...refs,
      });
    }
    return new EvrotrustNetworkError(`Evrotrust ${endpoint}: connection failed after the request was sent (${errorCodes(cause)[0] ?? 'unknown'})`, {
      code: 'network-error', endpoint, retryable: repeatable, outcomeUnknown: sideEffect, cause, ...refs,
    });
  }

  function malformed(ctx: CallContext, httpStatus: number, field: string, problem: string, refs: RequestRefs = ctx.refs): EvrotrustResponseError {
    // A 2xx means Evrotrust acted: on a create, something may exist that we cannot name.
    const { sideEffect } = ENDPOINT_SEMANTICS[ctx.endpoint];
    return new EvrotrustResponseError(`Evrotrust ${ctx.endpoint}: malformed answer, ${field}: ${problem}`, {
      code: 'malformed-response', endpoint: ctx.endpoint, httpStatus, retryable: false, outcomeUnknown: sideEffect, field, ...refs,
    });
  }

  /**
   * Sends one request and returns the raw body of a 2xx answer. Everything else throws.
   * The signed bytes are the sent bytes: for JSON the UTF-8 encoding is done once and both signed
   * and sent; for multipart the `data` string is signed and sent as the form field (JSON.stringify
   * output has no raw line breaks, so FormData's CRLF normalization cannot alter it).
   */
  async function send(ctx: CallContext, payload: Payload, responseKind: 'json' | 'bytes' | 'empty'): Promise<{ status: number; body: Uint8Array }> {
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
      form.append('document', new Blob([payload.file.content], { type: contentTypeFor(payload.file.filename) }), uploadFilename(payload.file.filename));
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
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      fail(ctx, transportError(ctx, timeoutSignal, error, true), startedAt);
    }
    logger?.debug?.('evrotrust call', logFields(ctx, {
      httpStatus: response.status,
      bytes: bytes.byteLength,
      durationMs: Math.round(performance.now() - startedAt),
    }));
    return { status: response.status, body: bytes };
  }

  /** Sends, then parses the JSON answer with `schema`; a mismatch names the field. */
  async function sendJson<T extends z.ZodType>(ctx: CallContext, payload: Payload, schema: T): Promise<{ httpStatus: number; value: z.output<T> }> {
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

  function json(value: unknown): Payload {
    return { kind: 'json', text: asciiJson(value) };
  }

  function signInfoBody(file: { filename: string; content: Uint8Array }, override: { type: SignatureType; algorithm?: string | undefined } | undefined): { type: SignatureType; algorithm: string } {
    // The content decides when it is recognizable (a PDF named without ".pdf" is still a PDF).
    const sniffed = sniffContentType(file.content);
    const picked = signInfoFor(sniffed ? { filename: file.filename, contentType: sniffed } : file, signing);
    return override ? { type: override.type, algorithm: override.algorithm ?? signing.algorithm } : picked;
  }

  return {
    async checkUser(user, call) {
      const endpoint = '/user/check/extended';
      const input = signerSchema.safeParse(user);
      if (!input.success) invalidInput(endpoint, {}, input.error);
      const ctx = context(endpoint, {}, call, false);
      // The same single identifier a send would use, so the check is about the person we send to.
      const { value: r } = await sendJson(ctx, json({ vendorNumber, user: pickIdentifier(input.data) }), userCheckResponseSchema);
      const out: UserCheckResult = {
        isRegistered: r.isRegistered,
        isReadyToSign: r.isReadyToSign,
        isReadyToSignDerived: r.isReadyToSignDerived,
        rejectReason: r.rejectReason.text,
        rejectReasonCode: r.rejectReason.code,
      };
      if (r.isIdentified !== undefined) out.isIdentified = r.isIdentified;
      if (r.isRejected !== undefined) out.isRejected = r.isRejected;
      if (r.isSupervised !== undefined) out.isSupervised = r.isSupervised;
      if (r.hasConfirmedPhone !== undefined) out.hasConfirmedPhone = r.hasConfirmedPhone;
      if (r.hasConfirmedEmail !== undefined) out.hasConfirmedEmail = r.hasConfirmedEmail;
      return out;
    },

    async sendOnline<S extends EvrotrustSigner>(input: SendOnlineInput & { signers: S[] }, call?: CallOptions): Promise<SendOnlineResult<S>> {
      const endpoint = '/document/doc/online';
      const parsed = sendOnlineInputSchema.safeParse(input);
      if (!parsed.success) invalidInput(endpoint, {}, parsed.error);
      const { document, signers, urlCallback, signInfo } = parsed.data;
      const sign = signInfoBody(document, signInfo);
      // Preview is for PDFs (the app shows them); DigitalSofia sends 0 for XML and CAD files.
      const pdfSignature = sign.type.startsWith('PDF');
      const preview = !pdfSignature ? 0 : document.preview === undefined || document.preview === true || document.preview === 1 ? 1 : 0;
      const data = asciiJson({
        vendorNumber,
        publicKey,
        urlCallback,
        document: {
          description: document.description,
          dateExpire: toUnixSeconds(document.dateExpire),
          coverage: document.coverage ?? signing.coverage,
          preview,
          checksumDocument: sha512Hex(document.content),
          ...(signing.certificateType !== null ? { certificateType: signing.certificateType } : {}),
        },
        signInfo: sign,
        users: signers.map(pickIdentifier),
      });
      const ctx = context(endpoint, {}, call, true);
      const startedAt = performance.now();
      const { httpStatus, value: r } = await sendJson(ctx, { kind: 'multipart', data, file: { filename: document.filename, content: document.content } }, sendOnlineResponseSchema);
      const refs = { threadID: r.threadID };
      const order = matchTransactions(input.signers, r.transactions);
      if (!order) {
        // The thread exists at Evrotrust: the error carries threadID so the caller can withdraw it.
        fail(ctx, malformed(ctx, httpStatus, 'transactions', `expected one entry per signer (${input.signers.length}), in order`, refs), startedAt);
      }
      const callerSigners: S[] = input.signers;
      const transactions = callerSigners.map((signer, i) => ({ ...signer, transactionID: r.transactions[order[i]!]!.transactionID }));
      logger?.info?.('evrotrust document sent', { endpoint, threadID: r.threadID, transactionIDs: transactions.map((t) => t.transactionID) });
      return { threadID: r.threadID, transactions };
    },

    async sendOffline(input, call) {
      const endpoint = '/document/doc/offline';
      const parsed = sendOfflineInputSchema.safeParse(input);
      if (!parsed.success) invalidInput(endpoint, {}, parsed.error);
      const { document, signer, urlCallback, signInfo } = parsed.data;
      // The OTP user carries every field the Swagger lists for it (the one-identifier rule is the `users[]` one).
      const user: Record<string, string> = { identificationNumber: signer.identificationNumber };
      if (signer.documentNumber !== undefined) user.documentNumber = signer.documentNumber;
      user.phone = signer.phone;
      if (signer.email !== undefined) user.email = signer.email;
      const data = asciiJson({
        vendorNumber,
        publicKey,
        urlCallback,
        user,
        document: {
          description: document.description,
          coverage: document.coverage ?? signing.coverage,
          checksumDocument: sha512Hex(document.content),
          ...(signing.certificateType !== null ? { certificateType: signing.certificateType } : {}),
        },
        signInfo: signInfoBody(document, signInfo),
      });
      const ctx = context(endpoint, {}, call, true);
      const { value: r } = await sendJson(ctx, { kind: 'multipart', data, file: { filename: document.filename, content: document.content } }, sendOfflineResponseSchema);
      logger?.info?.('evrotrust document sent', { endpoint, transactionID: r.transactionID });
      return { transactionID: r.transactionID };
    },

    async activateOffline(transactionID, activationCode, call) {
      const endpoint = '/document/doc/offline/activate';
      requireId(endpoint, 'transactionID', transactionID);
      requireId(endpoint, 'activationCode', activationCode);
      const ctx = context(endpoint, { transactionID }, call, false);
      await send(ctx, json({ vendorNumber, transactionID, activationCode }), 'empty');
    },

    async resendOfflineCode(transactionID, phone, call) {
      const endpoint = '/document/doc/offline/activate/resend';
      requireId(endpoint, 'transactionID', transactionID);
      requireId(endpoint, 'phone', phone);
      if (!OTP_PHONE_PATTERN.test(phone)) {
        throw new EvrotrustRequestError(`Evrotrust ${endpoint}: refused before sending, phone must match the Swagger pattern "+[0-9]" (a leading + and digits)`, {
          code: 'invalid-request', endpoint, retryable: false, outcomeUnknown: false, field: 'phone', transactionID,
        });
      }
      const ctx = context(endpoint, { transactionID }, call, false);
      await send(ctx, json({ vendorNumber, transactionID, phone }), 'empty');
    },

    async status(transactionID, call) {
      const endpoint = '/document/status';
      requireId(endpoint, 'transactionID', transactionID);
      const ctx = context(endpoint, { transactionID }, call, false);
      const { value: r } = await sendJson(ctx, json({ vendorNumber, transactionID }), statusResponseSchema);
      if (!isKnownStatus(r.status)) {
        // Tolerated: Evrotrust adds codes over time. Not final, so the caller keeps waiting/polling.
        logger?.warn?.('evrotrust unknown status code', { endpoint, transactionID, status: r.status });
      }
      return {
        status: r.status,
        statusName: statusName(r.status),
        isProcessing: r.isProcessing,
        isFinal: isFinalStatus(r.status, r.isProcessing),
        rejectReason: r.rejectReason ?? null,
      };
    },

    async download(transactionID, call) {
      const endpoint = '/document/download';
      requireId(endpoint, 'transactionID', transactionID);
      const ctx = context(endpoint, { transactionID }, call, true);
      const startedAt = performance.now();
      const { status, body } = await send(ctx, json({ vendorNumber, transactionID }), 'bytes');
      // A ZIP starts with "PK"; anything else (an HTML error page, JSON) is not the document.
      if (body.byteLength < 4 || body[0] !== 0x50 || body[1] !== 0x4b) {
        fail(ctx, malformed(ctx, status, '(body)', 'not a ZIP archive'), startedAt);
      }
      return body;
    },

    async withdraw(threadID, call) {
      const endpoint = '/document/withdraw';
      requireId(endpoint, 'threadID', threadID);
      const ctx = context(endpoint, { threadID }, call, false);
      const { value: r } = await sendJson(ctx, json({ vendorNumber, threadID }), withdrawResponseSchema);
      return { status: WITHDRAW_STATUS[r.status], code: r.status };
    },
  };
}

/** Merges and checks the signing defaults; a bad value fails at start-up, naming the option. */
export function resolveSigningOptions(given: Partial<SigningOptions> | undefined): SigningOptions {
  const o: SigningOptions = { ...DEFAULT_SIGNING_OPTIONS, ...given };
  for (const key of ['pdfType', 'xmlType', 'otherType'] as const) {
    if (!(SIGNATURE_TYPES as readonly string[]).includes(o[key])) {
      throw new TypeError(`createEvrotrustClient: signing.${key} must be one of ${SIGNATURE_TYPES.join(', ')}`);
    }
  }
  if (!(COVERAGES as readonly number[]).includes(o.coverage)) {
    throw new TypeError(`createEvrotrustClient: signing.coverage must be one of ${COVERAGES.join(', ')}`);
  }
  if (o.certificateType !== null && (!Number.isInteger(o.certificateType) || o.certificateType < 0)) {
    throw new TypeError('createEvrotrustClient: signing.certificateType must be a non-negative integer or null');
  }
  if (o.algorithm.trim() === '') throw new TypeError('createEvrotrustClient: signing.algorithm must not be empty');
  return o;
}

/**
 * Which answer entry belongs to which signer: `result[i]` is the entry index of signer i.
 * In order, as documented; but when Evrotrust echoes identificationNumber and it disagrees with the
 * order, match on it instead (a mix-up would send one person's transaction to another).
 * `undefined` when the counts differ or no consistent matching exists.
 */
export function matchTransactions(
  signers: readonly EvrotrustSigner[],
  entries: ReadonlyArray<{ identificationNumber?: string | null | undefined }>,
): number[] | undefined {
  if (signers.length !== entries.length) return undefined;
  const disagrees = (i: number): boolean => {
    const want = signers[i]?.identificationNumber;
    const got = entries[i]?.identificationNumber;
    return want !== undefined && got != null && got !== '' && got !== want;
  };
  const inOrder = signers.map((_, i) => i);
  if (!inOrder.some(disagrees)) return inOrder;
  const used = new Set<number>();
  const out: number[] = [];
  for (const signer of signers) {
    const id = signer.identificationNumber;
    if (id === undefined) return undefined;
    const candidates = entries.flatMap((e, j) => (e.identificationNumber === id && !used.has(j) ? [j] : []));
    if (candidates.length !== 1) return undefined;
    used.add(candidates[0]!);
    out.push(candidates[0]!);
  }
  return out;
}

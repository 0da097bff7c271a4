// The TypeScript client for business code (README "TypeScript client"):
// the operations of the HTTP API, called in-process over the Temporal client and MongoDB. It is a
// thin shell around SigningService, so validation, idempotency and errors are the API's own.
//
//   const signing = await createSigningClient({ temporalAddress: '127.0.0.1:7233', mongoUri: 'mongodb://127.0.0.1:27017/evrotrust' });
//   // or, TLS / mTLS / an API key as Temporal's CLI reads them (TEMPORAL_* variables, temporal.toml):
//   const signing = await createSigningClient({ temporal: loadTemporalConnection(), mongoUri: … });
//   const { id } = await signing.start({ document: { filename: 'contract.pdf', content: bytes }, signers: [{ identificationNumber: '…' }] });
//   const final = await signing.result(id); // waits until signed, rejected, expired, withdrawn or failed
//   await signing.close();
//
// Failures are the typed errors re-exported below (`err.code` is the API's error code).
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { Db } from 'mongodb';
import { mongoDbName } from '../config';
import { parseDuration } from '../lib/duration';
import { InvalidSigningRequestError } from './errors';
import type { StartSigningBytesRequest, StartSigningRequest } from './schemas';
import { fromApiBody, SigningService, type SigningResponse } from './service';
import type { ListSigningsRequest, SigningPage } from './list';
import { connectMongo } from '../store/mongo';
import { notifyUrlProblem } from '../notify/url';
import type { SigningStatus } from '../../workflows/definitions';
import { temporalConnectOptions, type TemporalConnection } from '../temporal/connection';

export {
  SigningError,
  InvalidSigningRequestError,
  NotifyNotConfiguredError,
  InvalidCursorError,
  SigningNotFoundError,
  SigningStateError,
  OtpRejectedError,
} from './errors';
export type { SigningResponse } from './service';
export type { ListSigningsRequest, SigningPage } from './list';
export type { SigningStatus } from '../../workflows/definitions';
export { loadTemporalConnection, TemporalConfigError, type TemporalConnection } from '../temporal/connection';

interface CommonOptions {
  /** Task queue of the signing workers; default `evrotrust-signing`. */
  taskQueue?: string;
  /** Expiry at Evrotrust when a request gives no `expiresIn`: a duration (`3d`) or ms; default 3d. */
  defaultExpiry?: string | number;
  /** How often a waiting signing polls Evrotrust when no callback comes: a duration or ms; default 15m. */
  pollInterval?: string | number;
  /**
   * Final-state notifications, as the service's NOTIFY_* variables configure them: `secretConfigured`
   * says the workers have a NOTIFY_SECRET (without it a start with `notifyUrl` is refused),
   * `defaultUrl` is NOTIFY_URL, `giveUpAfter` NOTIFY_GIVE_UP_AFTER (a duration or ms; default 3d).
   */
  notify?: { secretConfigured: boolean; defaultUrl?: string; giveUpAfter?: string | number };
}

/**
 * Connect to Temporal and MongoDB; `close()` closes both connections. Temporal is reached through
 * exactly one of: `temporalAddress` (plaintext host:port), `temporalConnection` (the SDK's full
 * ConnectionOptions: tls, apiKey, metadata…), or `temporal` as loadTemporalConnection() returns it
 * (address, namespace, TLS, API key from TEMPORAL_* variables and temporal.toml profiles).
 */
export type SigningClientConnectOptions = CommonOptions & {
  namespace?: string;
  /** mongodb:// URI; the database is `dbName`, else the one in the URI, else `evrotrust`. */
  mongoUri: string;
  dbName?: string;
} & (
    | { temporalAddress: string; temporalConnection?: undefined; temporal?: undefined }
    | { temporalConnection: ConnectionOptions; temporalAddress?: undefined; temporal?: undefined }
    | { temporal: TemporalConnection; temporalAddress?: undefined; temporalConnection?: undefined }
  );

/** Use connections the caller owns; `close()` leaves them open. */
export interface SigningClientHandleOptions extends CommonOptions {
  temporal: Client;
  db: Db;
}

export type SigningClientOptions = SigningClientConnectOptions | SigningClientHandleOptions;

/** The document to sign: Base64 as in the HTTP API, or the bytes themselves. */
export type SigningDocumentInput = { filename: string; description?: string } & (
  { contentBase64: string; content?: undefined } | { content: Uint8Array; contentBase64?: undefined }
);

/** One document of a group (2–20 documents signed as one): optional ones the signer may leave unsigned (never the first). */
export type GroupDocumentInput = SigningDocumentInput & { optional?: boolean };

/** `document` for one file, or `documents` for a group of 2–20 (sent with Evrotrust's group endpoint). */
export type StartRequest = Omit<StartSigningRequest, 'document' | 'documents'> &
  ({ document: SigningDocumentInput; documents?: undefined } | { documents: GroupDocumentInput[]; document?: undefined });

export interface SigningClient {
  /** Starts a signing; with `reference` or `idempotencyKey`, a repeat returns the same signing (`created: false`). */
  start(request: StartRequest, options?: { idempotencyKey?: string }): Promise<{ id: string; status: SigningStatus; created: boolean }>;
  /** The signing as it is now (GET /v1/signings/:id). */
  status(id: string): Promise<SigningResponse>;
  /**
   * A page of signings, newest first (GET /v1/signings): `{ items, nextCursor }`; pass `nextCursor`
   * back as `cursor`, with the same filters, for the next page.
   */
  list(filter?: ListSigningsRequest): Promise<SigningPage>;
  /** Every signing matching `filter` (no `cursor`), newest first, a page of `filter.limit` at a time. */
  listAll(filter?: Omit<ListSigningsRequest, 'cursor'>): AsyncIterable<SigningResponse>;
  /** Waits until the signing is final, then returns it. */
  result(id: string): Promise<SigningResponse>;
  /** Asks to withdraw a pending signing; it becomes `withdrawn` shortly after. */
  withdraw(id: string): Promise<{ id: string; status: SigningStatus }>;
  /** Submits the SMS code of an OTP signing; throws OtpRejectedError with Evrotrust's reason. */
  submitOtp(id: string, code: string): Promise<void>;
  /** Asks Evrotrust to send the OTP signer a new SMS code. */
  resendOtp(id: string): Promise<void>;
  /** The signed file of a signed signing; throws SigningStateError (`not-signed`) otherwise. */
  signedDocument(id: string): Promise<{ filename: string; contentType: string; content: Uint8Array }>;
  /** Signed document `index` (1-based) of a group signing (GET /v1/signings/:id/signed-documents/:index). */
  signedGroupDocument(id: string, index: number): Promise<{ filename: string; contentType: string; content: Uint8Array }>;
  close(): Promise<void>;
}

function durationMs(option: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0)
    throw new TypeError(`createSigningClient: ${option} must be a duration like 90s, 15m or 3d, or milliseconds`);
  return ms;
}

/**
 * What SigningService.start takes: `document.content` bytes go through as they are; a
 * `contentBase64` document is validated and decoded as the HTTP API does it (same messages).
 */
function toServiceRequest(request: StartRequest): StartSigningBytesRequest {
  const raw: unknown = request;
  if (typeof raw === 'object' && raw !== null && 'documents' in raw && Array.isArray(raw.documents)) {
    const docs: unknown[] = raw.documents;
    const bytes = docs.filter((d) => typeof d === 'object' && d !== null && 'content' in d && d.content !== undefined).length;
    if (bytes === 0) return fromApiBody(raw);
    if (bytes !== docs.length) throw new InvalidSigningRequestError('give every document as content or every one as contentBase64');
    if (docs.some((d) => typeof d === 'object' && d !== null && 'contentBase64' in d && d.contentBase64 !== undefined))
      throw new InvalidSigningRequestError('give documents[].content or documents[].contentBase64, not both');
    return request as StartSigningBytesRequest;
  }
  if (typeof raw !== 'object' || raw === null || !('document' in raw)) return fromApiBody(raw);
  const document: unknown = raw.document;
  if (typeof document !== 'object' || document === null || !('content' in document) || document.content === undefined)
    return fromApiBody(raw);
  if ('contentBase64' in document && document.contentBase64 !== undefined)
    throw new InvalidSigningRequestError('give document.content or document.contentBase64, not both');
  return request as StartSigningBytesRequest; // the service checks the rest, content included
}

/** The one Temporal choice of the connect options, and the namespace (`namespace` wins over a loaded one). */
function temporalOptions(options: SigningClientConnectOptions): { connectionOptions: ConnectionOptions; namespace: string } {
  const given = [options.temporalAddress, options.temporalConnection, options.temporal].filter((o) => o !== undefined).length;
  if (given !== 1) throw new TypeError('createSigningClient: give exactly one of temporalAddress, temporalConnection, temporal');
  if (options.temporal !== undefined) {
    if (options.temporal.address === undefined)
      throw new TypeError('createSigningClient: temporal has no address (set TEMPORAL_ADDRESS, TEMPORAL_PROFILE or TEMPORAL_CONFIG_FILE)');
    return {
      connectionOptions: temporalConnectOptions(options.temporal),
      namespace: options.namespace ?? options.temporal.namespace,
    };
  }
  return {
    connectionOptions: options.temporalConnection ?? { address: options.temporalAddress },
    namespace: options.namespace ?? 'default',
  };
}

export async function createSigningClient(options: SigningClientOptions): Promise<SigningClient> {
  const defaultExpiryMs = durationMs('defaultExpiry', options.defaultExpiry, 3 * 86_400_000);
  const pollIntervalMs = durationMs('pollInterval', options.pollInterval, 15 * 60_000);
  const notify = options.notify;
  const urlProblem = notify?.defaultUrl !== undefined ? notifyUrlProblem(notify.defaultUrl) : undefined;
  if (urlProblem) throw new TypeError(`createSigningClient: notify.defaultUrl: ${urlProblem}`);
  const giveUpAfterMs = notify?.giveUpAfter !== undefined ? durationMs('notify.giveUpAfter', notify.giveUpAfter, 0) : undefined;

  let temporal: Client;
  let db: Db;
  const closers: (() => Promise<void>)[] = [];
  if ('db' in options) {
    temporal = options.temporal;
    db = options.db;
  } else {
    const { connectionOptions, namespace } = temporalOptions(options);
    const mongo = await connectMongo(options.mongoUri, options.dbName ?? mongoDbName(options.mongoUri) ?? 'evrotrust');
    closers.push(() => mongo.close());
    try {
      const connection = await Connection.connect(connectionOptions);
      closers.push(() => connection.close());
      temporal = new Client({ connection, namespace });
    } catch (err) {
      await mongo.close();
      throw err;
    }
    db = mongo.db;
  }

  const service = new SigningService({
    db,
    temporal,
    taskQueue: options.taskQueue ?? 'evrotrust-signing',
    defaultExpiryMs,
    pollIntervalMs,
    ...(notify
      ? {
          notify: {
            secretConfigured: notify.secretConfigured,
            ...(notify.defaultUrl !== undefined ? { defaultUrl: notify.defaultUrl } : {}),
            ...(giveUpAfterMs !== undefined ? { giveUpAfterMs } : {}),
          },
        }
      : {}),
  });

  return {
    start: async (request, opts) => service.start(toServiceRequest(request), opts?.idempotencyKey),
    status: (id) => service.get(id),
    list: (filter) => service.list(filter ?? {}),
    listAll: (filter) => ({
      async *[Symbol.asyncIterator]() {
        for (let cursor: string | null | undefined; cursor !== null;) {
          const page = await service.list({ ...filter, ...(cursor !== undefined ? { cursor } : {}) });
          yield* page.items;
          cursor = page.nextCursor;
        }
      },
    }),
    result: (id) => service.result(id),
    withdraw: async (id) => {
      const s = await service.withdraw(id);
      return { id: s.id, status: s.status };
    },
    submitOtp: (id, code) => service.submitOtp(id, { code }),
    resendOtp: (id) => service.resendOtp(id),
    signedDocument: (id) => service.signedDocument(id),
    signedGroupDocument: (id, index) => service.signedGroupDocument(id, index),
    close: async () => {
      for (const close of closers.splice(0).reverse()) await close();
    },
  };
}

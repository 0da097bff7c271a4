// The business HTTP API (README "Business HTTP API"): /v1/signings… over the SigningService.
//
// Register it without a prefix: `await app.register(signingApiRoutes, { service, apiToken })`.
// Everything below lives in its own encapsulated scope under /v1/signings, so the bearer-token
// hook, the JSON-only body parser and the error format apply to these routes (and to unknown paths
// under /v1/signings) and to nothing else on the port (callbacks, health, metrics).
//
// Route decisions:
// - POST /v1/signings: 202 `{ id, status }` when it created the signing; 200 with the same shape and
//   `Idempotent-Replayed: true` when `reference` or `Idempotency-Key` named an existing one (the
//   status then is the signing's current one). `reference` wins when both are given. Both answers
//   carry `Location: /v1/signings/<id>`.
// - Bodies are validated with the shared schemas (src/signings/schemas.ts), so the HTTP API, the
//   TypeScript client and the CLI give the same messages; the start body's Base64 is decoded here
//   (fromApiBody) and the service takes the bytes. Ids, headers and the bodies of withdraw/resend
//   are validated here.
// - Body limits: 30 MiB (UPLOAD_BODY_LIMIT) on POST /v1/signings (a ~22 MB document in Base64, or a
//   30 MiB file as multipart/form-data), 16 KiB elsewhere.
// - POST /v1/signings also takes multipart/form-data (src/signings/multipart.ts): the file is read
//   as a stream into its bytes, without Base64 or a JSON string of it. Only that route parses it.
// - GET /v1/signings lists signings newest first, `{ items, nextCursor }`, with keyset cursors bound
//   to the filters they were made with (src/signings/list.ts).
// - Rate limit (API_RATE_LIMIT per API_RATE_LIMIT_WINDOW and client address) on every route here,
//   counted before the token check; 429 with Retry-After.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import { MULTIPART_LIMITS, readMultipartStart } from './multipart';
import { z } from 'zod';
import { InvalidSigningRequestError } from './errors';
import { fromApiBody, type SigningService } from './service';
import { bearerTokenHook } from './api-auth';
import { attachmentDisposition } from '../http/content-disposition';
import { apiErrorHandler } from './http-errors';
import { HttpError } from '../http/errors';
import { acceptOnlySafeJson } from '../http/json';
import { formatZodIssues } from '../lib/zod-issues';
import { errorAnswer } from '../http/errors';
import { documentationOnly } from '../http/openapi';
import { otpSchema, startSigningSchema } from './schemas';
import {
  eventsResponseSchema,
  otpAcceptedResponseSchema,
  otpResentResponseSchema,
  signingPageResponseSchema,
  signingResponseSchema,
  startedResponseSchema,
} from './responses';
import { listQuerySchema } from './list';

export { UnauthorizedError } from './api-auth';
export { HttpError, type ErrorBody } from '../http/errors';
export { attachmentDisposition } from '../http/content-disposition';

export interface SigningApiOptions {
  service: SigningService;
  /** The bearer token every request must carry (API_TOKEN); at least 16 characters. */
  apiToken: string;
  /** Body limit of POST /v1/signings, and the multipart file's limit (UPLOAD_BODY_LIMIT); default 30 MiB. */
  uploadLimit?: number;
  /** Requests per window per client address (API_RATE_LIMIT / API_RATE_LIMIT_WINDOW); false or max 0: none. Default none. */
  rateLimit?: { max: number; windowMs: number } | false;
}

export const API_PREFIX = '/v1/signings';
export const START_BODY_LIMIT = 30 * 1024 * 1024;
export const SMALL_BODY_LIMIT = 16 * 1024;

// ---- the input schemas of the routes (start and OTP bodies: src/signings/schemas.ts) ----

/** Ids are what POST /v1/signings returned; anything else is refused before touching the store. */
const idParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'id must be a signing id as returned by POST /v1/signings'),
});

/** A group's document: 1-based, as `documents[].index` in GET /v1/signings/:id. */
const documentParams = idParams.extend({
  n: z.coerce
    .number('n must be the 1-based position of a document, e.g. 1')
    .int('n must be the 1-based position of a document, e.g. 1')
    .min(1, 'n must be the 1-based position of a document, e.g. 1')
    .max(1000, 'n must be the 1-based position of a document, e.g. 1'),
});

/** Idempotency-Key, bare (as most APIs send it) or as a quoted structured-field string (IETF draft). */
const idempotencyKeyHeader = z
  .string()
  .transform((s) => s.trim().replace(/^"(.*)"$/, '$1'))
  .pipe(z.string().regex(/^[\x20-\x7e]{1,200}$/, 'the Idempotency-Key header must be 1 to 200 printable ASCII characters'))
  .optional();

/** withdraw and otp/resend take no input: no body, or an empty JSON object. */
const emptyBody = z.strictObject({}, 'this route takes no body: send none, or {}').optional();

function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidSigningRequestError(formatZodIssues(result.error));
  return result.data;
}

const noStore = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-store');

// ---- what /docs shows of each route (src/http/openapi.ts); the handlers parse with the same schemas ----

const EXAMPLE_START = {
  document: { filename: 'contract.pdf', contentBase64: 'JVBERi0xLjQKJSVFT0YK', description: 'Employment contract' },
  signers: [{ identificationNumber: '7501010010', country: 'BG' }],
  method: 'app',
  expiresIn: '3d',
  reference: 'contract-2026-0042',
};
const common = { tags: ['signings'], security: [{ apiToken: [] }] };
const commonErrors = {
  401: errorAnswer('no API token, or a wrong one'),
  429: errorAnswer('more than API_RATE_LIMIT requests in the window; retry after Retry-After seconds'),
  503: errorAnswer('Temporal or MongoDB does not answer; retry'),
};
const notFound = errorAnswer('no signing with this id');
/** The multipart/form-data start request (src/signings/multipart.ts); each field as in the JSON body. */
const multipartStart = z.object({
  file: z
    .string()
    .meta({ format: 'binary', description: 'the document; its filename is the document filename unless `filename` says otherwise' }),
  signers: z.string().meta({ description: 'a JSON array, as `signers` in the JSON body' }),
  filename: z.string().optional(),
  description: z.string().optional(),
  method: z.enum(['app', 'otp']).optional(),
  expiresIn: z.string().optional(),
  reference: z.string().optional(),
  signatureType: z.string().optional(),
  notifyUrl: z.string().optional().meta({ description: 'where the final state is POSTed (Standard Webhooks), as in the JSON body' }),
});
export const ROUTE_DOCS = {
  start: {
    ...common,
    summary: 'Start a signing',
    description:
      'Sends the document to Evrotrust for every signer. 202 when created; 200 with `Idempotent-Replayed: true` when `reference` or `Idempotency-Key` named an existing signing. JSON with the document in Base64, or multipart/form-data with the file as it is.',
    headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
    body: {
      content: {
        'application/json': { schema: startSigningSchema.meta({ examples: [EXAMPLE_START] }) },
        'multipart/form-data': { schema: multipartStart },
      },
    },
    response: {
      202: startedResponseSchema,
      200: startedResponseSchema,
      400: errorAnswer('the request is not valid; the message says what to fix'),
      409: errorAnswer('the reference or Idempotency-Key was used for a different request'),
      413: errorAnswer('the body is larger than UPLOAD_BODY_LIMIT'),
      415: errorAnswer('neither JSON nor multipart/form-data'),
      ...commonErrors,
    },
  },
  list: {
    ...common,
    summary: 'List signings',
    description: 'Newest first, filtered by status, reference and creation time; keyset pagination with nextCursor.',
    querystring: listQuerySchema,
    response: {
      200: signingPageResponseSchema,
      400: errorAnswer('a filter, limit or cursor is not valid; the message says what to fix'),
      ...commonErrors,
    },
  },
  get: {
    ...common,
    summary: 'A signing and its signers',
    params: idParams,
    response: { 200: signingResponseSchema, 400: errorAnswer('not a signing id'), 404: notFound, ...commonErrors },
  },
  events: {
    ...common,
    summary: "A signing's history",
    params: idParams,
    response: { 200: eventsResponseSchema, 404: notFound, ...commonErrors },
  },
  signedDocument: {
    ...common,
    summary: 'The signed file',
    params: idParams,
    response: {
      200: {
        description: 'the signed file, as Evrotrust returned it',
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      404: notFound,
      409: errorAnswer('the signing is not signed, or has several documents (use …/signed-documents/{n})'),
      410: errorAnswer('deleted under SIGNED_DOCUMENT_RETENTION'),
      ...commonErrors,
    },
  },
  signedGroupDocument: {
    ...common,
    summary: 'One signed file of a group signing',
    description:
      'Document n (1-based, as `documents[].index` of GET /v1/signings/{id}) of a signing started with `documents`; with several signers, the copy the last one signed (it carries every signature). For a one-document signing, n = 1 is its signed file.',
    params: documentParams,
    response: {
      200: {
        description: 'the signed file, as Evrotrust returned it',
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      400: errorAnswer('not a signing id, or n is not a positive integer'),
      404: errorAnswer('no signing with this id, or no document n'),
      409: errorAnswer('the signing is not signed'),
      410: errorAnswer('deleted under SIGNED_DOCUMENT_RETENTION'),
      ...commonErrors,
    },
  },
  withdraw: {
    ...common,
    summary: 'Withdraw a pending signing',
    description: 'Accepted: the workflow withdraws at Evrotrust, then records `withdrawn` (unless a signer signed first).',
    params: idParams,
    body: emptyBody,
    response: { 202: startedResponseSchema, 404: notFound, 409: errorAnswer('the signing is already final'), ...commonErrors },
  },
  otp: {
    ...common,
    summary: 'Submit the SMS code of an OTP signing',
    params: idParams,
    body: otpSchema.meta({ examples: [{ code: '123456' }] }),
    response: {
      200: otpAcceptedResponseSchema,
      404: notFound,
      409: errorAnswer('not an OTP signing, or not pending'),
      422: errorAnswer('Evrotrust refused the code; the message gives its reason'),
      ...commonErrors,
    },
  },
  otpResend: {
    ...common,
    summary: 'Send the SMS code again',
    params: idParams,
    body: emptyBody,
    response: { 200: otpResentResponseSchema, 404: notFound, 409: errorAnswer('not an OTP signing, or not pending'), ...commonErrors },
  },
};

export const signingApiRoutes: FastifyPluginAsync<SigningApiOptions> = async (app, opts) => {
  const { service, apiToken } = opts;
  const uploadLimit = opts.uploadLimit ?? START_BODY_LIMIT;
  const authenticate = bearerTokenHook(apiToken); // throws at registration on a missing/short token

  await app.register(
    async (api) => {
      if (opts.rateLimit && opts.rateLimit.max > 0) {
        const { max, windowMs } = opts.rateLimit;
        await api.register(rateLimit, {
          max,
          timeWindow: windowMs,
          // The socket's peer: Fastify's trustProxy is off (TRUST_PROXY concerns the callbacks' allowlist).
          keyGenerator: (request) => request.ip,
          errorResponseBuilder: (_request, ctx) =>
            new HttpError(429, 'rate-limited', `more than ${ctx.max} requests in ${ctx.after}; retry after the Retry-After seconds`, {
              headers: { 'retry-after': String(Math.max(1, Math.ceil(ctx.ttl / 1000))) },
            }),
        });
      }
      api.addHook('onRequest', authenticate);
      api.setErrorHandler(apiErrorHandler);
      // The handlers parse their input (parseInput, fromApiBody) to answer in the API's format; the
      // route schemas are the same zod schemas, there for /docs.
      api.setValidatorCompiler(documentationOnly);
      // Unknown paths under /v1/signings answer in the API's format, after the token check.
      api.setNotFoundHandler(async (request) => {
        throw new HttpError(404, 'not-found', `no route ${request.method} under ${api.prefix}; see the business API in the README`);
      });
      acceptOnlySafeJson(api, { emptyIsNone: true }); // JSON only: text/plain and the rest get 415

      // The start route in a scope of its own: only it parses multipart/form-data.
      await api.register(async (upload) => {
        await upload.register(multipart, { limits: { ...MULTIPART_LIMITS, fileSize: uploadLimit } });
        upload.post('/', { bodyLimit: uploadLimit, schema: ROUTE_DOCS.start }, async (request, reply) => {
          const idempotencyKey = parseInput(idempotencyKeyHeader, request.headers['idempotency-key']);
          const input = request.isMultipart() ? await readMultipartStart(request, uploadLimit) : fromApiBody(request.body);
          const started = await service.start(input, idempotencyKey);
          reply.header('location', `${api.prefix}/${started.id}`);
          if (!started.created) reply.header('idempotent-replayed', 'true');
          return noStore(reply)
            .code(started.created ? 202 : 200)
            .send({ id: started.id, status: started.status });
        });
      });

      // The list: query parameters status, reference, createdAfter, createdBefore, limit, cursor (src/signings/list.ts).
      api.get('/', { schema: ROUTE_DOCS.list }, async (request, reply) => noStore(reply).send(await service.list(request.query)));

      api.get('/:id', { schema: ROUTE_DOCS.get }, async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        return noStore(reply).send(await service.get(id));
      });

      api.get('/:id/events', { schema: ROUTE_DOCS.events }, async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        return noStore(reply).send({ id, events: await service.events(id) });
      });

      api.get('/:id/signed-document', { schema: ROUTE_DOCS.signedDocument }, async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        const file = await service.signedDocument(id);
        return noStore(reply)
          .header('content-type', file.contentType)
          .header('content-disposition', attachmentDisposition(file.filename))
          .header('x-content-type-options', 'nosniff')
          .send(Buffer.from(file.content.buffer, file.content.byteOffset, file.content.byteLength));
      });

      api.get('/:id/signed-documents/:n', { schema: ROUTE_DOCS.signedGroupDocument }, async (request, reply) => {
        const { id, n } = parseInput(documentParams, request.params);
        const file = await service.signedGroupDocument(id, n);
        return noStore(reply)
          .header('content-type', file.contentType)
          .header('content-disposition', attachmentDisposition(file.filename))
          .header('x-content-type-options', 'nosniff')
          .send(Buffer.from(file.content.buffer, file.content.byteOffset, file.content.byteLength));
      });

      api.post('/:id/withdraw', { bodyLimit: SMALL_BODY_LIMIT, schema: ROUTE_DOCS.withdraw }, async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        parseInput(emptyBody, request.body);
        const signing = await service.withdraw(id);
        // Accepted: the workflow withdraws at Evrotrust and then records `withdrawn`.
        return noStore(reply).code(202).send({ id: signing.id, status: signing.status });
      });

      api.post('/:id/otp', { bodyLimit: SMALL_BODY_LIMIT, schema: ROUTE_DOCS.otp }, async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        await service.submitOtp(id, request.body); // validates { code }; 422 with Evrotrust's reason
        return noStore(reply).send({ id, accepted: true });
      });

      api.post('/:id/otp/resend', { bodyLimit: SMALL_BODY_LIMIT, schema: ROUTE_DOCS.otpResend }, async (request, reply) => {
        const { id } = parseInput(idParams, request.params);
        parseInput(emptyBody, request.body);
        await service.resendOtp(id);
        return noStore(reply).send({ id, resent: true });
      });
    },
    { prefix: API_PREFIX },
  );
};

// Every error of the business API is `{ error: "<code>", message: "<what to fix>" }`: signing
// errors carry their own status and code; Fastify's own 4xx (media type, body size) are given
// fixed messages, because theirs may quote the request; anything else is a logged 500 that shows
// the caller only the request id.
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SigningError } from './errors';

/** An API-level refusal (authentication, routing, body reading) that is not about a signing. */
export class ApiHttpError extends Error {
  constructor(readonly httpStatus: number, readonly code: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface ApiErrorBody {
  error: string;
  message: string;
}

/** The answer to a Fastify-raised client error, or undefined if it is not one we know. */
function fastifyClientError(err: FastifyError, request: FastifyRequest): { status: number; body: ApiErrorBody } | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: 'unsupported-media-type', message: 'send the body as JSON with Content-Type: application/json' } };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: 'too-large', message: `the body must be at most ${request.routeOptions.bodyLimit} bytes` } };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: { error: 'bad-request', message: 'Content-Length does not match the body' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: 'bad-json', message: 'the body is empty; send a JSON object' } };
  }
  return undefined;
}

/** MongoDB or Temporal cannot be reached right now: the caller should retry, not report a bug. */
function dependencyUnavailable(err: unknown): boolean {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true;
  // Temporal's client wraps gRPC errors; UNAVAILABLE (14) and DEADLINE_EXCEEDED (4) mean "not now".
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (e.name === 'ServiceError' || code === 14 || code === 4) return true;
  }
  return false;
}

export function apiErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof SigningError || err instanceof ApiHttpError) {
    if (err.httpStatus === 401 && 'challenge' in err && typeof err.challenge === 'string') reply.header('www-authenticate', err.challenge);
    void reply.code(err.httpStatus).send({ error: err.code, message: err.message } satisfies ApiErrorBody);
    return;
  }
  const known = fastifyClientError(err, request);
  if (known) {
    void reply.code(known.status).send(known.body);
    return;
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // A client error we have no words for: its status is right, its message may quote the request.
    request.log.info({ code: err.code, statusCode: status }, 'signing API: request refused');
    void reply.code(status).send({ error: 'bad-request', message: 'the request could not be read; check the method, headers and JSON body' } satisfies ApiErrorBody);
    return;
  }
  if (dependencyUnavailable(err)) {
    request.log.warn({ err: { name: err.name, message: err.message.split('\n')[0] } }, 'signing API: a dependency is unavailable');
    void reply.code(503).header('retry-after', '5').send({ error: 'unavailable', message: 'Temporal or MongoDB cannot be reached right now; retry in a few seconds' } satisfies ApiErrorBody);
    return;
  }
  request.log.error({ err }, 'signing API: unexpected error');
  void reply.code(500).send({ error: 'internal', message: `an internal error occurred; retry later, or report request id ${request.id}` } satisfies ApiErrorBody);
}

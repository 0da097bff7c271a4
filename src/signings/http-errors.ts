// The business API's wording of errors that are not already an HttpError (the shape and the
// handler: src/http/errors.ts). Signing errors carry their own status and code; Fastify's own 4xx
// (media type, body size) are given fixed messages, because theirs may quote the request; a
// dependency that cannot be reached is a 503 to retry; anything else is a logged 500 that shows the
// caller only the request id.
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import type { FastifyError, FastifyRequest } from 'fastify';
import { fastifyBodyError, HttpError, httpErrorHandler } from '../http/errors';

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

function toApiHttpError(err: FastifyError, request: FastifyRequest): HttpError {
  const body = fastifyBodyError(err, request.routeOptions.bodyLimit);
  if (body) return body;
  if (err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new HttpError(400, 'bad-request', 'Content-Length does not match the body');
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // A client error we have no words for: its status is right, its message may quote the request.
    request.log.info({ code: err.code, statusCode: status }, 'signing API: request refused');
    return new HttpError(status, 'bad-request', 'the request could not be read; check the method, headers and JSON body');
  }
  if (dependencyUnavailable(err)) {
    request.log.warn({ err: { name: err.name, message: err.message.split('\n')[0] } }, 'signing API: a dependency is unavailable');
    return new HttpError(503, 'unavailable', 'Temporal or MongoDB cannot be reached right now; retry in a few seconds', {
      headers: { 'retry-after': '5' },
    });
  }
  request.log.error({ err }, 'signing API: unexpected error');
  return new HttpError(500, 'internal', `an internal error occurred; retry later, or report request id ${request.id}`);
}

export const apiErrorHandler = httpErrorHandler({ toHttpError: toApiHttpError });

// The callback routes' error answers (the shape and the handler: src/http/errors.ts; bad JSON:
// src/http/json.ts). Each class carries its HTTP status and the code, which is also the `reason`
// label of the rejected metric.
import { fastifyBodyError, HttpError, isFastifyError } from '../http/errors';
import { BadJsonError } from '../http/json';
import type { RejectReason } from './metrics';

export abstract class CallbackHttpError extends HttpError {
  declare readonly code: RejectReason;
  constructor(httpStatus: number, code: RejectReason, message: string, options?: { cause?: unknown }) {
    super(httpStatus, code, message, options);
  }
}

export class ForbiddenCallerError extends CallbackHttpError {
  constructor() {
    super(403, 'forbidden', 'this address may not send Evrotrust callbacks (it is not in CALLBACK_ALLOWED_IPS)');
  }
}

export class ForbiddenTokenError extends CallbackHttpError {
  constructor() {
    super(403, 'forbidden-token', 'the callback URL is unknown or no longer valid');
  }
}

export class InvalidCallbackError extends CallbackHttpError {
  constructor(message: string) {
    super(400, 'invalid', message);
  }
}

export class StoreUnavailableError extends CallbackHttpError {
  constructor(options?: { cause?: unknown }) {
    super(503, 'store-unavailable', 'the callback could not be stored right now; send it again later', options);
  }
}

export class CallbackNotFoundError extends CallbackHttpError {
  constructor() {
    super(404, 'not-found', 'POST to <callback URL>/document/ready, /document/offline/ready or /document/group/ready');
  }
}

export class InternalCallbackError extends CallbackHttpError {
  constructor(options?: { cause?: unknown }) {
    super(500, 'internal', 'the callback could not be processed; send it again later', options);
  }
}

/** What the request lifecycle threw that is not an HttpError (Fastify's parser errors, bugs) as an answer. */
export function toCallbackHttpError(err: unknown, bodyLimit: number): HttpError {
  if (err instanceof HttpError) return err;
  const body = fastifyBodyError(err, bodyLimit);
  if (body) return body;
  if (isFastifyError(err)) {
    if (err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new BadJsonError('Content-Length does not match the body');
    if (err.validation) return new InvalidCallbackError(err.message);
  }
  return new InternalCallbackError({ cause: err });
}

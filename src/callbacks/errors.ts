// The callback routes' error answers: `{ error: "<code>", message: "<what to fix>" }`. Each class
// carries its HTTP status and the code, which is also the `reason` label of the rejected metric.
import type { FastifyError } from 'fastify';
import type { RejectReason } from './metrics';

export abstract class CallbackHttpError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: RejectReason;
}

export class ForbiddenCallerError extends CallbackHttpError {
  override readonly name = 'ForbiddenCallerError';
  readonly statusCode = 403;
  readonly code = 'forbidden';
  constructor() {
    super('this address may not send Evrotrust callbacks (it is not in CALLBACK_ALLOWED_IPS)');
  }
}

export class ForbiddenTokenError extends CallbackHttpError {
  override readonly name = 'ForbiddenTokenError';
  readonly statusCode = 403;
  readonly code = 'forbidden-token';
  constructor() {
    super('the callback URL is unknown or no longer valid');
  }
}

export class BadJsonError extends CallbackHttpError {
  override readonly name = 'BadJsonError';
  readonly statusCode = 400;
  readonly code = 'bad-json';
  constructor(detail: string) {
    super(`the body must be a JSON object: ${detail}`);
  }
}

export class InvalidCallbackError extends CallbackHttpError {
  override readonly name = 'InvalidCallbackError';
  readonly statusCode = 400;
  readonly code = 'invalid';
}

export class BodyTooLargeError extends CallbackHttpError {
  override readonly name = 'BodyTooLargeError';
  readonly statusCode = 413;
  readonly code = 'too-large';
  constructor(limit: number) {
    super(`the body must be at most ${limit} bytes`);
  }
}

export class UnsupportedMediaTypeError extends CallbackHttpError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly statusCode = 415;
  readonly code = 'unsupported-media-type';
  constructor() {
    super('send the body as JSON with Content-Type: application/json');
  }
}

export class StoreUnavailableError extends CallbackHttpError {
  override readonly name = 'StoreUnavailableError';
  readonly statusCode = 503;
  readonly code = 'store-unavailable';
  constructor(options?: { cause?: unknown }) {
    super('the callback could not be stored right now; send it again later', options);
  }
}

export class CallbackNotFoundError extends CallbackHttpError {
  override readonly name = 'CallbackNotFoundError';
  readonly statusCode = 404;
  readonly code = 'not-found';
  constructor() {
    super('POST to <callback URL>/document/ready, /document/offline/ready or /document/group/ready');
  }
}

export class InternalCallbackError extends CallbackHttpError {
  override readonly name = 'InternalCallbackError';
  readonly statusCode = 500;
  readonly code = 'internal';
  constructor(options?: { cause?: unknown }) {
    super('the callback could not be processed; send it again later', options);
  }
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as Partial<FastifyError>).code === 'string';
}

/** Maps whatever the request lifecycle threw (ours, Fastify's parser/validation errors) to an answer. */
export function toCallbackHttpError(err: unknown, bodyLimit: number): CallbackHttpError {
  if (err instanceof CallbackHttpError) return err;
  if (isFastifyError(err)) {
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new BodyTooLargeError(bodyLimit);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_TYPE':
        return new UnsupportedMediaTypeError();
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return new BadJsonError(err.message);
    }
    if (err.validation) return new InvalidCallbackError(err.message);
  }
  return new InternalCallbackError({ cause: err });
}

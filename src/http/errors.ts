// The error answers of the service's HTTP features (callbacks, business API): one shape,
// `{ error: "<code>", message: "<what to fix>" }`, one base class that carries the status and the
// code, and one Fastify error handler. Each feature says how it words what is not already an
// HttpError (Fastify's own refusals, driver errors, bugs) and what it logs and counts.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/** The one error answer shape, as a schema for the OpenAPI description (src/http/openapi.ts). */
export const errorBodySchema = z
  .object({ error: z.string().meta({ description: 'a stable code' }), message: z.string().meta({ description: 'what to fix' }) })
  .meta({ examples: [{ error: 'invalid-request', message: 'signers: at least one signer is required' }] });

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** A documented error answer: `{ 404: errorAnswer('no such signing') }` in a route's response schema. */
export const errorAnswer = (description: string) => ({ description, content: { 'application/json': { schema: errorBodySchema } } });

/** A refusal answered with `httpStatus` and `{ error: code, message }`. */
export class HttpError extends Error {
  /** Headers the answer carries besides the body (WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.headers = options.headers ?? {};
  }
}

export function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as Partial<FastifyError>).code === 'string';
}

/**
 * Fastify's own refusals of a JSON body, in fixed words (Fastify's messages may quote the request).
 * `bodyLimit` is the limit the route enforces. Undefined for any other error.
 */
export function fastifyBodyError(err: unknown, bodyLimit: number | undefined): HttpError | undefined {
  if (!isFastifyError(err)) return undefined;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported-media-type', 'send the body as JSON with Content-Type: application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'too-large', `the body must be at most ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'bad-json', 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, 'bad-json', 'the body is not valid JSON');
  }
  return undefined;
}

export interface HttpErrorHandlerOptions {
  /** What an error that is not an HttpError becomes. */
  toHttpError(err: FastifyError, request: FastifyRequest): HttpError;
  /** Sees every answer before it is sent: for logs and metrics. */
  onAnswer?(answer: HttpError, err: FastifyError, request: FastifyRequest): void;
}

/** The error handler of a feature's scope (`app.setErrorHandler(httpErrorHandler({ … }))`). */
export function httpErrorHandler(
  options: HttpErrorHandlerOptions,
): (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (err, request, reply) => {
    const answer = err instanceof HttpError ? err : options.toHttpError(err, request);
    options.onAnswer?.(answer, err, request);
    void reply
      .code(answer.httpStatus)
      .headers(answer.headers)
      .send({ error: answer.code, message: answer.message } satisfies ErrorBody);
  };
}

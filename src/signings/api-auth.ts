// Bearer-token check of the business API (RFC 6750). The token is compared in constant time over
// SHA-256 digests, so neither its content nor its length leaks through response timing.
import { timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';
import { HttpError } from '../http/errors';
import { sha256Digest } from '../lib/hash';

/** 401 with a `WWW-Authenticate` challenge. */
export class UnauthorizedError extends HttpError {
  constructor(
    message: string,
    readonly challenge: string,
  ) {
    super(401, 'unauthorized', message, { headers: { 'www-authenticate': challenge } });
  }
}

const digest = sha256Digest;

const REALM = 'realm="evrotrust-signing"';

/** An onRequest hook that lets a request through only with `Authorization: Bearer <apiToken>`. */
export function bearerTokenHook(apiToken: string): onRequestHookHandler {
  // Refuse to run open: an empty or short token is a configuration mistake, not "no auth".
  if (apiToken.trim().length < 16) throw new Error('signingApiRoutes: apiToken must be at least 16 characters');
  const expected = digest(apiToken);
  return (request, _reply, done) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match?.[1]) {
      done(new UnauthorizedError('send the API token as "Authorization: Bearer <API_TOKEN>"', `Bearer ${REALM}`));
      return;
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      done(
        new UnauthorizedError('the bearer token is not valid; use the API_TOKEN of this service', `Bearer ${REALM}, error="invalid_token"`),
      );
      return;
    }
    done();
  };
}

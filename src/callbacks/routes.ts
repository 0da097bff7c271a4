// Evrotrust's callbacks (README "Callbacks from Evrotrust"): POST <urlCallback><suffix>, on the plain
// form and on the per-signing capability form /t/<token>, for the three suffixes, a doubled slash
// before the suffix tolerated. Everything here is encapsulated in one plugin, so its allowlist hook,
// JSON-only parser, 16 KiB limit, zod validation and error answers apply to these routes only.
//
// Order per request: allowlist (onRequest, before the body is read) → token (onRequest, token form)
// → content type and size (parser) → schema (zod) → durable insert → 200 with an empty body →
// the relay delivers to the workflow in the background.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from 'mongodb';
import type { Client } from '@temporalio/client';
import { startCallbackRelay, type CallbackDeliverer, type CallbackRelay, type CallbackRelayOptions } from './relay';
import { callbackMetrics, type CallbackMetrics } from './metrics';
import { CALLBACK_TOKEN_PATTERN, CallbackTokens, tokenLogId } from './tokens';
import type { ServiceMetrics } from '../http/metrics';
import { errorAnswer, httpErrorHandler } from '../http/errors';
import { z } from 'zod';
import { acceptOnlySafeJson } from '../http/json';
import { withTimeout } from '../lib/timeout';
import { CallbackInbox, CallbackStoreUnavailableError } from './inbox';
import type { CallbackTokenDoc } from '../store/collections';
import { AddressSet, allowlistHook, CALLER_DECORATOR, type Caller } from './allowlist';
import { CallbackNotFoundError, ForbiddenTokenError, StoreUnavailableError, toCallbackHttpError } from './errors';
import { callbackBodySchema, KNOWN_FIELDS, zodValidatorCompiler, type CallbackBody } from './schema';

export const CALLBACK_PREFIX = '/evrotrust/callback';
export const CALLBACK_SUFFIXES = ['document/ready', 'document/offline/ready', 'document/group/ready'] as const;
export type CallbackSuffix = (typeof CALLBACK_SUFFIXES)[number];
export const DEFAULT_CALLBACK_BODY_LIMIT = 16 * 1024;

export interface CallbackRoutesOptions {
  db: Db;
  /** CALLBACK_ALLOWED_IPS: addresses and CIDR ranges allowed to call. */
  allowedIps: readonly string[];
  /** TRUST_PROXY: proxies whose X-Forwarded-For is believed. */
  trustProxy?: readonly string[];
  metrics: ServiceMetrics;
  /** The relay of this process (startCallbackRelay): tries delivery right after storing. */
  relay?: CallbackDeliverer;
  /** Upper bound for the insert and the token lookup before answering 503 (default 10 s). */
  storeTimeoutMs?: number;
  /** Body limit in bytes (default 16 KiB). */
  bodyLimit?: number;
}

const TOKEN_DECORATOR = 'evrotrustTokenSigningId';

/** The path as it may be stored or logged: the capability token replaced by `:token`, no query. */
export function redactCallbackPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.replace(/^(\/evrotrust\/callback\/t\/)[^/]*/, '$1:token');
}

/** Log serializer for these routes' requests: Fastify's default one would log the token in the URL. */
function requestLogSerializer(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactCallbackPath(req.url),
    remoteAddress: req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

export const callbackRoutes: FastifyPluginAsync<CallbackRoutesOptions> = async (app, opts) => {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_CALLBACK_BODY_LIMIT;
  const storeTimeoutMs = opts.storeTimeoutMs ?? 10_000;
  const inbox = new CallbackInbox(opts.db, { timeoutMs: storeTimeoutMs });
  const tokens = new CallbackTokens(opts.db);
  const metrics: CallbackMetrics = callbackMetrics(opts.metrics);
  const allowed = new AddressSet(opts.allowedIps);
  const trustProxy = new AddressSet(opts.trustProxy ?? []);

  app.decorateRequest(CALLER_DECORATOR, null);
  app.decorateRequest(TOKEN_DECORATOR, null);

  // JSON only: every other content type (or none) is answered 415 by Fastify, mapped below.
  acceptOnlySafeJson(app, { bodyLimit });
  app.setValidatorCompiler(zodValidatorCompiler);

  app.addHook(
    'onRequest',
    allowlistHook({
      allowed,
      trustProxy,
      onDenied: (request, caller) =>
        request.log.warn(
          { caller: caller.address ?? null, peer: caller.peer, forwarded: caller.forwarded, path: redactCallbackPath(request.url) },
          caller.address === undefined
            ? 'callback refused: unparseable X-Forwarded-For from a trusted proxy'
            : 'callback refused: caller not in CALLBACK_ALLOWED_IPS',
        ),
    }),
  );

  // Every answer of these routes, accepted or not, feeds the acknowledgement latency.
  app.addHook('onResponse', async (_request, reply) => {
    metrics.ackSeconds.observe({ code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(
    httpErrorHandler({
      toHttpError: (err) => toCallbackHttpError(err, bodyLimit),
      onAnswer: (answer, err, request) => {
        metrics.rejected.inc({ reason: answer.code });
        if (answer.httpStatus >= 500) {
          const cause = answer.cause ?? err;
          request.log.error(
            { reason: answer.code, err: cause instanceof Error ? `${cause.name}: ${cause.message}`.split('\n')[0] : String(cause) },
            'callback not accepted',
          );
        } else if (answer.code !== 'forbidden') {
          // Denied callers were logged by the allowlist hook; no body content goes into logs.
          request.log.info({ reason: answer.code, status: answer.httpStatus, path: redactCallbackPath(request.url) }, 'callback refused');
        }
      },
    }),
  );

  /** Capability form: the token must be known and not revoked; its signing goes with the callback. */
  const tokenHook = async (request: FastifyRequest<{ Params: { token: string } }>): Promise<void> => {
    const { token } = request.params;
    if (!CALLBACK_TOKEN_PATTERN.test(token)) {
      request.log.warn({ reason: 'malformed-token' }, 'callback refused: not a callback token');
      throw new ForbiddenTokenError();
    }
    let doc: CallbackTokenDoc | null;
    try {
      doc = await withTimeout(tokens.find(token), storeTimeoutMs);
    } catch (err) {
      throw new StoreUnavailableError({ cause: err });
    }
    if (!doc || doc.revokedAt !== null) {
      request.log.warn(
        { token: tokenLogId(token), known: doc !== null },
        doc ? 'callback refused: token revoked' : 'callback refused: unknown token',
      );
      throw new ForbiddenTokenError();
    }
    request.setDecorator<string>(TOKEN_DECORATOR, doc.signingId);
  };

  const handler =
    (suffix: CallbackSuffix, form: 'plain' | 'token') =>
    async (request: FastifyRequest<{ Body: CallbackBody }>, reply: FastifyReply): Promise<FastifyReply> => {
      const caller = request.getDecorator<Caller>(CALLER_DECORATOR);
      const { transactionID, status, rejectReason } = request.body;
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(request.body)) if (!KNOWN_FIELDS.has(k)) extra[k] = v;
      const receivedAt = new Date();
      let stored;
      try {
        stored = await inbox.store({
          transactionID: String(transactionID),
          status,
          rejectReason: rejectReason ?? null,
          extra,
          path: redactCallbackPath(request.url),
          form,
          tokenSigningId: form === 'token' ? request.getDecorator<string>(TOKEN_DECORATOR) : null,
          sourceAddress: caller.address ?? caller.peer,
          peerAddress: caller.peer,
          receivedAt,
          // With a relay here the first attempt is ours; sweeps wait its head start for it.
          nextAttemptAt: new Date(receivedAt.getTime() + (opts.relay?.headStartMs ?? 0)),
        });
      } catch (err) {
        throw err instanceof CallbackStoreUnavailableError ? new StoreUnavailableError({ cause: err.cause ?? err }) : err;
      }
      metrics.received.inc({ suffix, outcome: stored.duplicate ? 'duplicate' : 'stored' });
      request.log.info(
        { callbackId: stored.doc._id.slice(0, 12), transactionID: stored.doc.transactionID, status, duplicate: stored.duplicate, suffix },
        stored.duplicate ? 'callback repeated; already stored' : 'callback stored',
      );
      reply.code(200).send();
      // After the answer is on its way: the first delivery attempt never delays the 200.
      if (!stored.duplicate) opts.relay?.deliverSoon(stored.doc);
      return reply;
    };

  /** What /docs shows (src/http/openapi.ts); the `//` aliases (Evrotrust's own joins) are hidden there. */
  const docs = (suffix: CallbackSuffix, form: 'plain' | 'token', alias: boolean) => ({
    body: callbackBodySchema.meta({ examples: [{ transactionID: '5d8b1a30c7e94f0b', status: 2 }] }),
    tags: ['evrotrust'],
    summary: `Evrotrust's ${suffix} callback${form === 'token' ? ' (on the capability URL a signing was sent with)' : ''}`,
    description:
      'For Evrotrust only: the caller must be on the IP allowlist. Answered 200 (empty) once stored; the signing confirms the status with Evrotrust before it counts.',
    ...(form === 'token' ? { params: z.object({ token: z.string().regex(CALLBACK_TOKEN_PATTERN) }) } : {}),
    response: {
      200: { description: 'stored (or already stored)', type: 'null' },
      400: errorAnswer('the body is not a callback; the message says why'),
      403: errorAnswer('the caller is not on the allowlist'),
      404: errorAnswer('unknown or revoked callback token'),
      503: errorAnswer('the store does not answer; Evrotrust retries'),
    },
    ...(alias ? { hide: true } : {}),
  });

  const register = (instance: FastifyInstance, url: string, suffix: CallbackSuffix, form: 'plain' | 'token'): void => {
    const alias = url.includes('//');
    if (form === 'token') {
      instance.post<{ Params: { token: string }; Body: CallbackBody }>(
        url,
        {
          bodyLimit,
          schema: docs(suffix, form, alias),
          logSerializers: { req: requestLogSerializer },
          onRequest: tokenHook,
        },
        handler(suffix, form),
      );
    } else {
      instance.post<{ Body: CallbackBody }>(
        url,
        {
          bodyLimit,
          schema: docs(suffix, form, alias),
          logSerializers: { req: requestLogSerializer },
        },
        handler(suffix, form),
      );
    }
  };

  for (const suffix of CALLBACK_SUFFIXES) {
    for (const slash of ['/', '//']) {
      register(app, `${CALLBACK_PREFIX}${slash}${suffix}`, suffix, 'plain');
      register(app, `${CALLBACK_PREFIX}/t/:token${slash}${suffix}`, suffix, 'token');
    }
  }

  // Anything else under the prefix: a JSON 404, and a request log without the token.
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: `${CALLBACK_PREFIX}/*`,
    schema: { hide: true },
    logSerializers: { req: requestLogSerializer },
    handler: async () => {
      throw new CallbackNotFoundError();
    },
  });
};

export interface RegisterCallbacksOptions extends CallbackRoutesOptions {
  /**
   * Given (and no `relay`), a relay is started for this app with the app's logger and these options,
   * and stopped when the app closes.
   */
  temporalClient?: Client;
  relayOptions?: Omit<CallbackRelayOptions, 'db' | 'temporalClient' | 'metrics' | 'logger'>;
}

/**
 * Registers the callback routes on the service's app (before app.listen / app.ready). With a
 * `temporalClient` (and no `relay`), also runs the relay that delivers stored callbacks to the
 * workflows, and stops it when the app closes.
 */
export async function registerCallbacks(app: FastifyInstance, options: RegisterCallbacksOptions): Promise<void> {
  const { temporalClient, relayOptions, ...routeOptions } = options;
  if (temporalClient && !routeOptions.relay) {
    const relay: CallbackRelay = startCallbackRelay({
      ...relayOptions,
      db: options.db,
      temporalClient,
      metrics: options.metrics,
      logger: app.log.child({ component: 'callback-relay' }),
    });
    routeOptions.relay = relay;
    app.addHook('onClose', () => relay.stop());
  }
  await app.register(callbackRoutes, routeOptions);
}

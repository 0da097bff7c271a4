// The service's one HTTP port: Evrotrust callbacks, the business API, health and metrics.
// Each concern is a Fastify plugin of its own; this file only wires them together, and sets what
// holds for every route (README "Configuration", HTTP limits):
// - a small body limit (64 KiB): a route that wants more says so (only POST /v1/signings does), so
//   an unknown path or a 404 never reads a large body. Fastify refuses a Content-Length over the
//   limit before reading a byte, and a chunked body once it passes it;
// - an answer sent before its request's body was read (413, 403, 401…) closes the connection, so
//   Node does not go on reading (and discarding) the rest of the body;
// - header, request and idle timeouts;
// - overload (event-loop delay, heap) answered 503 with Retry-After, except on the callbacks
//   (Evrotrust retries 3 times only; they are small and cheap) and health/metrics;
// - a request id per request: the caller's X-Request-Id when it is sane, else a UUID; echoed in the
//   answer's X-Request-Id and carried as `reqId` by every log line of the request.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
  type RouteOptions,
} from 'fastify';
import underPressure from '@fastify/under-pressure';
import { healthRoutes, type HealthChecks } from './health';
import { registerApiDocs } from './openapi';
import { SERVICE_VERSION } from '../version';
import { HTTP_LIMIT_DEFAULTS, type HttpLimitsConfig } from '../config-http';

export interface ServerDeps {
  health: HealthChecks;
  /** Plugins of the other concerns (callbacks, business API, metrics), registered in order. */
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[];
  /** Fastify's own logger from options; ignored when `loggerInstance` is given. */
  logger?: FastifyServerOptions['logger'];
  /** The process's logger (src/log.ts). */
  loggerInstance?: FastifyBaseLogger;
  /** Body limit, timeouts and overload thresholds; the defaults of src/config-http.ts otherwise. */
  limits?: Partial<ServerLimits>;
  /** Told of every route as it is added (test/http/openapi.test.ts checks each is documented). */
  observeRoutes?: (route: RouteOptions) => void;
}

export type ServerLimits = Pick<
  HttpLimitsConfig,
  | 'bodyLimit'
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'idleTimeoutMs'
  | 'connectionTimeoutMs'
  | 'overloadMaxEventLoopDelayMs'
  | 'overloadMaxHeapUsedBytes'
  | 'overloadRetryAfterS'
>;

/** Routes never shed under overload: Evrotrust's callbacks, health and metrics. */
export function exemptFromOverload(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  if (route === undefined) return false;
  return route === '/healthz' || route === '/readyz' || route === '/metrics' || route.startsWith('/evrotrust/callback');
}

/** A request id we take from the caller: short, and only characters that are safe in a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when sane (one header, the pattern above), else a fresh UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const limits: ServerLimits = { ...HTTP_LIMIT_DEFAULTS, ...deps.limits };
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    genReqId: requestIdFor,
    // The caller's address is decided by the callback allowlist hook from the socket and
    // TRUST_PROXY, never by Fastify's own trustProxy handling.
    trustProxy: false,
    bodyLimit: limits.bodyLimit,
    // Socket inactivity; whole request (headers and body) received; idle keep-alive connection.
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // How often Node checks the two timeouts above (its default, 30 s, would let a slow client overstay them).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (!request.raw.complete) reply.header('connection', 'close');
  });

  if (limits.overloadMaxEventLoopDelayMs > 0 || limits.overloadMaxHeapUsedBytes > 0) {
    await app.register(underPressure, {
      ...(limits.overloadMaxEventLoopDelayMs > 0 ? { maxEventLoopDelay: limits.overloadMaxEventLoopDelayMs } : {}),
      ...(limits.overloadMaxHeapUsedBytes > 0 ? { maxHeapUsedBytes: limits.overloadMaxHeapUsedBytes } : {}),
      sampleInterval: 250,
      pressureHandler: (request, reply, type) => {
        if (exemptFromOverload(request)) return undefined; // let it through
        request.log.warn({ pressure: type }, 'overloaded: request refused with 503');
        void reply.code(503).header('retry-after', String(limits.overloadRetryAfterS)).header('connection', 'close');
        // A value returned is what under-pressure sends (its types say void; its code sends it).
        const body = { error: 'overloaded', message: `the service is overloaded; retry in ${limits.overloadRetryAfterS} s` };
        return body as unknown as void;
      },
    });
  }

  const observe = deps.observeRoutes;
  if (observe) app.addHook('onRoute', (route) => observe(route));
  // First: the OpenAPI collector must see every route that follows (GET /docs, /docs/json).
  await registerApiDocs(app, { version: SERVICE_VERSION });
  await app.register(healthRoutes, { checks: deps.health });
  for (const plugin of deps.plugins ?? []) await plugin(app);
  return app;
}

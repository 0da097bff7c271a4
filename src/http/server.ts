// The service's one HTTP port: Evrotrust callbacks, the business API, health and metrics.
// Each concern is a Fastify plugin of its own; this file only wires them together.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { healthRoutes, type HealthChecks } from './health';

export interface ServerDeps {
  health: HealthChecks;
  /** Plugins of the other concerns (callbacks, business API, metrics), registered in order. */
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[];
  logger?: FastifyServerOptions['logger'];
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    // The caller's address is decided by the callback allowlist hook from the socket and
    // TRUST_PROXY, never by Fastify's own trustProxy handling.
    trustProxy: false,
    bodyLimit: 32 * 1024 * 1024,
  });
  await app.register(healthRoutes, { checks: deps.health });
  for (const plugin of deps.plugins ?? []) await plugin(app);
  return app;
}

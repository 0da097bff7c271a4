// GET /healthz: the process is up. GET /readyz: Temporal and MongoDB answer (503 otherwise).
// /readyz needs no token, so it says only which dependency is down: never the driver's error text,
// which names internal hosts and ports. The detail goes to the server's log.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { withTimeout } from '../lib/timeout';

export interface HealthChecks {
  temporal(): Promise<void>;
  mongodb(): Promise<void>;
}

export type CheckState = 'ok' | 'down';

export interface ReadinessBody {
  status: 'ready' | 'unavailable';
  checks: { temporal: CheckState; mongodb: CheckState };
}

const TIMEOUT_MS = 2000;

async function probe(check: () => Promise<void>): Promise<{ state: CheckState; error?: string }> {
  try {
    await withTimeout(check(), TIMEOUT_MS);
    return { state: 'ok' };
  } catch (err) {
    return { state: 'down', error: err instanceof Error ? `${err.name}: ${err.message.split('\n')[0] ?? ''}` : String(err) };
  }
}

const checkState = z.enum(['ok', 'down']);
const readinessSchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ temporal: checkState, mongodb: checkState }),
});

export const healthRoutes: FastifyPluginAsync<{ checks: HealthChecks }> = async (app, { checks }) => {
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' }),
  );
  const readyz = {
    tags: ['operations'],
    summary: 'Temporal and MongoDB answer',
    description: 'Names only which dependency is down; the detail goes to the log.',
    response: { 200: readinessSchema, 503: readinessSchema },
  };
  app.get('/readyz', { schema: readyz }, async (request, reply) => {
    const [temporal, mongodb] = await Promise.all([probe(checks.temporal), probe(checks.mongodb)]);
    const ready = temporal.state === 'ok' && mongodb.state === 'ok';
    if (!ready) {
      request.log.warn({ temporal: temporal.error ?? 'ok', mongodb: mongodb.error ?? 'ok' }, 'readiness: a dependency is down');
    }
    const body: ReadinessBody = { status: ready ? 'ready' : 'unavailable', checks: { temporal: temporal.state, mongodb: mongodb.state } };
    return reply
      .code(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(body);
  });
};

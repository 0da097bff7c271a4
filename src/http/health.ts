// GET /healthz: the process is up. GET /readyz: Temporal and MongoDB answer (503 otherwise).
import type { FastifyPluginAsync } from 'fastify';
import { withTimeout } from '../lib/timeout';

export interface HealthChecks {
  temporal(): Promise<void>;
  mongodb(): Promise<void>;
}

const TIMEOUT_MS = 2000;

async function probe(check: () => Promise<void>): Promise<'ok' | string> {
  try {
    await withTimeout(check(), TIMEOUT_MS);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? (err.message.split('\n')[0] ?? 'error') : 'error';
  }
}

export const healthRoutes: FastifyPluginAsync<{ checks: HealthChecks }> = async (app, { checks }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const [temporal, mongodb] = await Promise.all([probe(checks.temporal), probe(checks.mongodb)]);
    const ready = temporal === 'ok' && mongodb === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', temporal, mongodb });
  });
};

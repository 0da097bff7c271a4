// The SDK's Prometheus metrics on the worker: the Runtime installed as the worker processes install
// it (src/telemetry/runtime.ts, on a free port here), the service's own worker (src/worker.ts, with
// its workflow interceptor module and tracing off) and the real activities; one signing completes
// over the simulator, then GET /metrics on the worker's address shows Temporal's temporal_* series.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log';
import { installWorkerRuntime } from '../../src/telemetry/runtime';
import { finalSigning, sentTransactions, signingRequest, useSigningEnv } from '../helpers/signing-env';
import { startServiceWorker } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { captureLines, freePort } from './helpers';

// Once per process, before any NativeConnection (node's test runner gives each file its own
// process); a top-level hook runs before the suite's own (the worker's).
const logs = captureLines();
let metricsAddress = '';
before(async () => {
  metricsAddress = `127.0.0.1:${await freePort()}`;
  installWorkerRuntime({ metricsAddress, logger: createLogger({ format: 'json', level: 'debug', destination: logs }) });
});

const scrape = async (): Promise<string> => {
  const res = await fetch(`http://${metricsAddress}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
};
/** The exporter is scraped live: waits until the SDK has recorded what `pattern` looks for. */
const scrapeUntil = (pattern: RegExp, what: string): Promise<string> =>
  waitFor(async () => {
    const t = await scrape();
    return pattern.test(t) ? t : undefined;
  }, `${what} on /metrics`);
/** The names of the series in a Prometheus text answer. */
const seriesNames = (text: string): Set<string> =>
  new Set(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(l)?.[0] ?? ''),
  );

describe('worker metrics (SDK Prometheus exporter)', () => {
  const env = useSigningEnv({ pollIntervalMs: 300, startWorker: (activities, taskQueue) => startServiceWorker(activities, {}, taskQueue) });

  /** One signing started, signed on the simulator and final. */
  const signOne = async (): Promise<void> => {
    const { id } = await env.service.start(signingRequest());
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, id)).status, 'signed');
  };

  it('after a signing, /metrics on WORKER_METRICS_ADDRESS has temporal_* series of workflows, activities and task slots', async () => {
    await signOne();
    const text = await scrapeUntil(/^temporal_workflow_completed\b/m, 'temporal_workflow_completed');
    const names = seriesNames(text);
    for (const expected of [
      'temporal_workflow_completed',
      'temporal_activity_execution_latency_bucket',
      'temporal_worker_task_slots_available',
      'temporal_workflow_task_execution_latency_bucket',
    ]) {
      assert.ok(names.has(expected), `${expected} missing; series: ${[...names].filter((n) => n.startsWith('temporal_')).join(', ')}`);
    }
    assert.match(text, new RegExp(`task_queue="${env.worker.taskQueue}"`));
    // Our task queue's workflow is the one counted.
    assert.match(text, /temporal_workflow_completed\{[^}]*workflow_type="signingWorkflow"[^}]*\} [1-9]/);
  });

  it("the workflow's own counter signing_step_retries is exported through the workflow metric meter", async (t) => {
    // Three failed checks use up the activity's attempts; the workflow then retries the step itself, and counts it.
    env.sim.controls.failNext('/user/check/extended', { status: 500, count: 3 });
    await signOne();
    const text = await scrapeUntil(/signing_step_retries/, 'signing_step_retries');
    t.diagnostic(
      text
        .split('\n')
        .filter((l) => l.includes('step_retries') && !l.startsWith('#'))
        .join('; '),
    );
    assert.match(
      text,
      /signing_step_retries\{[^}]*step="check-signers"[^}]*\} 1\b/,
      text
        .split('\n')
        .filter((l) => l.includes('step_retries'))
        .join('\n'),
    );
  });

  it('the SDK logs through our logger, quietly: no webpack statistics at info, no sink errors with tracing off', () => {
    const records = logs.records();
    assert.ok(records.length > 0, 'the Runtime logger received nothing');
    const loud = records.filter((r) => (r.level as number) >= 30 && /webpack \d/.test(String(r.msg)));
    assert.deepEqual(loud, [], 'webpack statistics logged at info or above');
    assert.ok(
      records.some((r) => r.level === 20 && /webpack \d+\.\d+\.\d+ compiled/.test(String(r.msg))),
      'the webpack statistics should still be there at debug',
    );
    const sinkErrors = records.filter((r) => /sink/i.test(String(r.msg)));
    assert.deepEqual(sinkErrors, [], 'the workflow interceptor module with tracing off must not log sink errors');
    const errors = records.filter((r) => (r.level as number) >= 50);
    assert.deepEqual(errors, []);
  });
});

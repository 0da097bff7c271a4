// Tracing through Temporal's OpenTelemetry interceptors (src/telemetry/tracing.ts) with an in-memory
// exporter: the service's client starts the workflow, the service's worker (src/worker.ts: the
// bundle's workflow interceptor module and its sink, the activity interceptors) runs it; one
// signing gives one trace of linked spans, StartWorkflow → RunWorkflow → StartActivity → RunActivity,
// and no span attribute, name or event carries the signer's personal data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createTracing, tracingOff, type Tracing } from '../../src/telemetry/tracing';
import { finalSigning, OTP_SIGNER, sentTransactions, signingRequest, useSigningEnv } from '../helpers/signing-env';
import { startServiceWorker } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

const exporter = new InMemorySpanExporter();
let tracing: Tracing = tracingOff;
// Top-level hooks run before the suite's own (the client and the worker take `tracing` from here).
before(async () => {
  tracing = await createTracing({ serviceName: 'evrotrust-signing-test', exporter });
});
after(() => tracing.shutdown());

const SIGNER = { ...OTP_SIGNER, email: 'maria.ivanova@example.bg' };
const PERSONAL = [SIGNER.identificationNumber, SIGNER.phone, SIGNER.email, SIGNER.phone.slice(1)];

describe('tracing (OpenTelemetry interceptors)', () => {
  const env = useSigningEnv({
    pollIntervalMs: 300,
    clientInterceptors: () => tracing.clientInterceptors,
    startWorker: (activities, taskQueue) => startServiceWorker(activities, { tracing }, taskQueue),
  });

  it('a signing produces linked spans from the workflow start to each activity run, without personal data', async () => {
    const { id } = await env.service.start(signingRequest({ signers: [SIGNER] }));
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, id)).status, 'signed');

    const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
    // Workflow spans reach the exporter through the sink after each workflow task.
    const spans = await waitFor(() => {
      const all = exporter.getFinishedSpans();
      return byName(all, 'RunWorkflow:signingWorkflow').length > 0 && byName(all, 'RunActivity:finalizeSigning').length > 0
        ? all
        : undefined;
    }, 'RunWorkflow and the last RunActivity span');

    const start = byName(spans, 'StartWorkflow:signingWorkflow');
    assert.equal(start.length, 1, `spans: ${spans.map((s) => s.name).join(', ')}`);
    const root = start[0] as ReadableSpan;
    const traceId = root.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]));
    /** The names from a span up to the root of its trace. */
    const ancestry = (s: ReadableSpan): string[] => {
      const names = [s.name];
      let parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
      while (parent) {
        names.push(parent.name);
        parent = parent.parentSpanId ? byId.get(parent.parentSpanId) : undefined;
      }
      return names;
    };

    const run = byName(inTrace, 'RunWorkflow:signingWorkflow');
    assert.ok(run.length >= 1, 'RunWorkflow is in the StartWorkflow trace');
    assert.equal(run[0]?.parentSpanId, root.spanContext().spanId, 'RunWorkflow is a child of StartWorkflow');
    for (const activity of ['checkSigners', 'sendDocument', 'confirmStatus', 'storeSignedDocument', 'finalizeSigning']) {
      const runs = byName(inTrace, `RunActivity:${activity}`);
      assert.ok(runs.length >= 1, `RunActivity:${activity} in the trace; spans: ${inTrace.map((s) => s.name).join(', ')}`);
      const chain = ancestry(runs[0] as ReadableSpan);
      assert.deepEqual(chain.slice(0, 2), [`RunActivity:${activity}`, `StartActivity:${activity}`]);
      assert.ok(chain.includes('RunWorkflow:signingWorkflow'), `${activity}: ${chain.join(' ← ')}`);
      assert.equal(chain.at(-1), 'StartWorkflow:signingWorkflow');
    }
    // The service name is on the resource.
    assert.equal(root.resource.attributes['service.name'], 'evrotrust-signing-test');

    // Nothing personal in any span: names, attributes, events, status messages.
    const dump = JSON.stringify(
      spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links })),
    );
    for (const value of PERSONAL) assert.ok(!dump.includes(value), `personal data in a span: ${value}`);
    assert.match(dump, new RegExp(`signing-${id}`), 'spans do carry the workflow id');
  });
});

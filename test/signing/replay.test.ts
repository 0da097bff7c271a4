// Replays the saved histories of finished signings against today's workflow code: a change that
// breaks determinism (and so every signing in flight when it is deployed) fails here.
// Fixtures: test/fixtures/histories/*.json, recorded by `npm run record-histories`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowInterceptorModules, workflowsPath } from '../../src/worker-bundle';

const dir = join(__dirname, '..', 'fixtures', 'histories');

describe('workflow replay', () => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();

  it('has recorded histories for the main outcomes', () => {
    for (const name of [
      'signed',
      'rejected',
      'expired',
      'withdrawn',
      'otp-signed',
      'two-signers-signed',
      'two-signers-rejected',
      'signer-not-ready',
    ]) {
      assert.ok(files.includes(`${name}.json`), `${name}.json recorded`);
    }
  });

  // Workers with tracing on and off run different bundles (src/worker-bundle.ts): a history made
  // under one must replay under the other, so both are checked.
  for (const traced of [false, true]) {
    it(`replays every recorded history without a nondeterminism error (${traced ? 'traced' : 'untraced'} bundle)`, async () => {
      if (Runtime._instance === undefined) Runtime.install({ logger: new DefaultLogger('WARN') });
      const histories = files.map((f) => ({
        workflowId: f.replace(/\.json$/, ''),
        history: historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8'))),
      }));
      const results = [];
      for await (const r of Worker.runReplayHistories(
        { workflowsPath, interceptors: { workflowModules: workflowInterceptorModules(traced) } },
        histories,
      ))
        results.push(r);
      assert.equal(results.length, files.length);
      for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${String(r.error)}`);
    });
  }
});

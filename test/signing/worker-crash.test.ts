// The worker process is killed with SIGKILL while signings wait, then restarted: every signing
// still ends correctly, exactly once. The worker runs as a real separate process (src/worker-main.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { generateKeyPair } from '../../src/evrotrust/keys';
import { SigningService } from '../../src/signings/service';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator } from '../../simulator';
import type { MongoHandle } from '../../src/store/mongo';
import { finalSigning, pdf, sentTransactions, SIGNER_A, SIGNER_B, type SigningEnv } from '../helpers/signing-env';
import { temporalClient, testDatabase, testEnv } from '../helpers/stack';

describe('worker killed with SIGKILL while signings wait', () => {
  let sim: Simulator;
  let mongo: MongoHandle;
  let temporal: { client: Client; close(): Promise<void> };
  let service: SigningService;
  let workerEnv: NodeJS.ProcessEnv;
  let worker: ChildProcess | undefined;
  const taskQueue = `crash-${randomUUID()}`;

  function startWorker(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], { env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    return new Promise((resolve, reject) => {
      const onData = (b: Buffer) => {
        output += b.toString();
        if (output.includes('worker polling')) resolve(child);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
      child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${output.slice(-500)}`)));
    });
  }

  before(async () => {
    sim = await startSimulator({ port: 0, processingMs: 100 });
    mongo = await testDatabase();
    temporal = await temporalClient();
    const dir = mkdtempSync(join(tmpdir(), 'evrotrust-crash-'));
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, (await generateKeyPair()).privateKeyPem, { mode: 0o600 });
    workerEnv = {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: testEnv().temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MONGODB_URI: `${testEnv().mongoUri.replace(/\/$/, '')}/${mongo.db.databaseName}`,
      EVROTRUST_BASE_URL: sim.vendorBaseUrl,
      EVROTRUST_VENDOR_NUMBER: SANDBOX_VENDOR_NUMBER,
      EVROTRUST_API_KEY: SANDBOX_API_KEY,
      EVROTRUST_PRIVATE_KEY_FILE: keyFile,
      CALLBACK_ALLOWED_IPS: '127.0.0.1',
      API_TOKEN: 'test-token-test-token',
      PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      DATA_DIR: dir,
      WORKER_METRICS_ADDRESS: 'off', // no fixed port: other test runs share the machine
    };
    service = new SigningService({
      db: mongo.db,
      temporal: temporal.client,
      taskQueue,
      defaultExpiryMs: 120_000,
      pollIntervalMs: 500,
      expiryGraceMs: 1000,
      processingRecheckMs: 150,
    });
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await temporal?.close();
    await mongo?.close();
    await sim?.close();
  });

  it('every signing ends correctly after the restart', { timeout: 120_000 }, async () => {
    worker = await startWorker();
    const start = (signers: object[]) => service.start({ document: { filename: 'c.pdf', content: pdf(randomUUID()) }, signers });
    const toSign = await start([SIGNER_A]);
    const toReject = await start([SIGNER_B]);
    const both = await start([SIGNER_A, SIGNER_B]);
    const env = { service, mongo } as SigningEnv;
    const [txSign] = await sentTransactions(env, toSign.id);
    const [txReject] = await sentTransactions(env, toReject.id);
    const [txBoth1, txBoth2] = await sentTransactions(env, both.id, 2);

    worker.kill('SIGKILL');
    await new Promise((r) => worker?.once('exit', r));
    // Outcomes happen while no worker runs; their callbacks go nowhere.
    await sim.controls.sign(txSign as string);
    await sim.controls.reject(txReject as string, 'changed my mind');
    await sim.controls.sign(txBoth1 as string);
    worker = await startWorker();
    await sim.controls.sign(txBoth2 as string);

    const [a, b, c] = await Promise.all([finalSigning(env, toSign.id), finalSigning(env, toReject.id), finalSigning(env, both.id)]);
    assert.equal(a?.status, 'signed');
    assert.equal(b?.status, 'rejected');
    assert.equal(b?.rejectReason, 'changed my mind');
    assert.equal(c?.status, 'signed');
    const signed = await service.signedDocument(toSign.id);
    assert.equal(
      Buffer.compare(Buffer.from(signed.content), Buffer.from(sim.controls.transaction(txSign as string)?.signedDocument?.content ?? [])),
      0,
    );
  });
});

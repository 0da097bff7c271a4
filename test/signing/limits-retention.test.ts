// Issue 11 items 2 and 6 end to end (simulator, Temporal, FerretDB, the real activities):
// a hostile download fails the signing with a clear reason, and the retention job deletes personal
// data and signed files of final signings past their retention, keeping the record and its events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalSigning, sentTransactions, signingRequest, useSigningEnv } from '../helpers/signing-env';
import { RetentionJob } from '../../src/signings/retention';
import { SignedDocumentGoneError } from '../../src/signings/errors';
import { loadDataConfig } from '../../src/config';
import { ConfigError } from '../../src/config';

describe('download limits through the simulator', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });

  for (const [kind, limit] of [
    ['zip-bomb', 'entry-ratio'],
    ['many-entries', 'entries'],
    ['lying-header', 'inflated-bytes'],
  ] as const) {
    it(`a ${kind} download fails the signing (signed-document-too-large, limit ${limit}), not the process`, async () => {
      const { id } = await env.service.start(signingRequest());
      const [tx] = await sentTransactions(env, id);
      env.sim.controls.nextDownload(kind);
      await env.sim.controls.sign(tx as string);
      const s = await finalSigning(env, id);
      assert.equal(s.status, 'failed');
      assert.match(s.failureReason ?? '', /^signed-document-too-large: .*\(download-too-large\)$/);
      assert.equal((await env.store.get(id))?.failureCode, 'signed-document-too-large');
      const refused = (await env.service.events(id)).find((e) => e.type === 'download-refused');
      assert.equal(refused?.data?.limit, limit);
      assert.equal(refused?.data?.transactionId, tx);
      assert.equal(typeof refused?.data?.actual, 'number');
    });
  }
});

describe('the download byte cap on the wire', () => {
  const env = useSigningEnv({ pollIntervalMs: 300, maxDownloadBytes: 1024 * 1024 });

  it('a download over maxDownloadBytes is refused while reading (download-bytes)', async () => {
    const { id } = await env.service.start(signingRequest());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.nextDownload('oversized', { bytes: 3 * 1024 * 1024 });
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.match(s.failureReason ?? '', /^signed-document-too-large: /);
    const refused = (await env.service.events(id)).find((e) => e.type === 'download-refused');
    assert.equal(refused?.data?.limit, 'download-bytes');
    assert.equal(refused?.data?.max, 1024 * 1024);
  });
});

describe('retention of personal data and signed documents', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });

  it('deletes signing_people and the signed file past their retention; the record and events stay; 410 after', async () => {
    const { id } = await env.service.start(signingRequest());
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    const signed = await finalSigning(env, id);
    assert.equal(signed.status, 'signed');
    const { id: pendingId } = await env.service.start(signingRequest());
    await sentTransactions(env, pendingId);

    const job = new RetentionJob({ store: env.store, personalDataMs: 60_000, signedDocumentMs: 120_000 });
    const finalizedAt = new Date(signed.finalizedAt as string).getTime();
    // Not yet past either retention: nothing changes.
    assert.deepEqual(await job.runOnce(new Date(finalizedAt + 59_000)), { personalDataErased: [], signedDocumentsDeleted: [] });
    assert.ok(await env.store.hasPeople(id));

    // Past the personal data retention only.
    const first = await job.runOnce(new Date(finalizedAt + 61_000));
    assert.ok(first.personalDataErased.includes(id));
    assert.ok(!first.personalDataErased.includes(pendingId), 'a pending signing keeps its people');
    assert.deepEqual(first.signedDocumentsDeleted, []);
    assert.equal(await env.store.hasPeople(id), false);
    assert.ok(await env.store.hasPeople(pendingId));
    await assert.rejects(env.store.readSource(id), 'the document to sign is deleted with the personal data');
    assert.ok((await env.store.readSource(pendingId)).length > 0, 'a pending signing keeps its document');
    assert.ok((await env.service.signedDocument(id)).content.length > 0, 'the signed file is still there');

    // Past the signed document retention too.
    const second = await job.runOnce(new Date(finalizedAt + 121_000));
    assert.deepEqual(second.personalDataErased, [], 'done once');
    assert.deepEqual(second.signedDocumentsDeleted, [id]);
    await assert.rejects(env.service.signedDocument(id), (err: unknown) => {
      assert.ok(err instanceof SignedDocumentGoneError);
      assert.equal(err.httpStatus, 410);
      assert.match(err.message, /deleted on .* under the retention policy \(SIGNED_DOCUMENT_RETENTION\)/);
      return true;
    });

    // The record and its audit trail stay, with no personal data in the new events.
    const after = await env.service.get(id);
    assert.equal(after.status, 'signed');
    assert.equal(after.signers[0]?.transactionId, tx);
    assert.equal(after.signedDocument?.sha256, signed.signedDocument?.sha256);
    assert.ok(after.signedDocument?.deletedAt);
    assert.ok(after.personalDataErasedAt);
    const events = await env.service.events(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['created', 'sent', 'status', 'signed-document-stored', 'signed', 'personal-data-erased', 'signed-documents-deleted'],
    );
    const text = JSON.stringify(events);
    for (const v of Object.values(signingRequest().signers[0] as Record<string, string>)) assert.ok(!text.includes(v));
    assert.deepEqual(await job.runOnce(new Date(finalizedAt + 1e9)), { personalDataErased: [], signedDocumentsDeleted: [] });
  });

  it('the periodic loop runs in the background and stops', async () => {
    const { id } = await env.service.start(signingRequest());
    await env.service.withdraw(id);
    await finalSigning(env, id);
    const job = new RetentionJob({ store: env.store, personalDataMs: 1, signedDocumentMs: null, intervalMs: 100 });
    job.start();
    try {
      for (let i = 0; i < 100 && (await env.store.hasPeople(id)); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await env.store.hasPeople(id), false);
    } finally {
      await job.stop();
    }
  });
});

describe('configuration of limits and retention', () => {
  it('defaults', () => {
    const c = loadDataConfig({});
    assert.deepEqual(c.downloadLimits, {
      maxDownloadBytes: 64 * 1024 * 1024,
      maxEntries: 64,
      maxInflatedBytes: 256 * 1024 * 1024,
      maxEntryRatio: 200,
    });
    assert.deepEqual(c.retention, { personalDataMs: 30 * 86_400_000, signedDocumentMs: null, sweepIntervalMs: 3_600_000 });
  });

  it('values and their bounds; out of range names the variable', () => {
    const c = loadDataConfig({ DOWNLOAD_MAX_BYTES: '16MiB', PERSONAL_DATA_RETENTION: '7d', SIGNED_DOCUMENT_RETENTION: '365d' });
    assert.equal(c.downloadLimits.maxDownloadBytes, 16 * 1024 * 1024);
    assert.equal(c.retention.personalDataMs, 7 * 86_400_000);
    assert.equal(c.retention.signedDocumentMs, 365 * 86_400_000);
    assert.equal(loadDataConfig({ SIGNED_DOCUMENT_RETENTION: 'none' }).retention.signedDocumentMs, null);
    for (const [name, value] of [
      ['DOWNLOAD_MAX_BYTES', '2GiB'],
      ['DOWNLOAD_MAX_BYTES', '1.5MiB'],
      ['DOWNLOAD_MAX_ENTRIES', '2'],
      ['DOWNLOAD_MAX_INFLATED_BYTES', 'lots'],
      ['DOWNLOAD_MAX_ENTRY_RATIO', '5'],
      ['PERSONAL_DATA_RETENTION', 'none'],
      ['PERSONAL_DATA_RETENTION', '30s'],
      ['PERSONAL_DATA_RETENTION', '99999d'],
      ['SIGNED_DOCUMENT_RETENTION', '0.5d'],
      ['RETENTION_SWEEP_INTERVAL', '2d'],
    ] as const) {
      assert.throws(
        () => loadDataConfig({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.variable === name && /from .* to /.test(err.message),
        `${name}=${value}`,
      );
    }
  });
});

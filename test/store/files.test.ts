// src/store/files.ts on this run's FerretDB: a file is written in two round trips and read in one,
// and a repeated or crashed write never leaves a wrong file behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GridFSBucket } from 'mongodb';
import { deleteFile, putFileOnce, readFile, StoredFileMismatchError } from '../../src/store/files';
import { sha256Hex } from '../../src/lib/hash';
import type { MongoHandle } from '../../src/store/mongo';
import { testDatabase } from '../helpers/stack';
import { faultyDb } from '../helpers/store-faults';

describe('GridFS files in few round trips', () => {
  let mongo: MongoHandle;
  before(async () => (mongo = await testDatabase()));
  after(async () => mongo.close());
  const bucket = 'sources';
  const digest = (content: Uint8Array) => ({ size: content.byteLength, sha256: sha256Hex(content) });

  it('a multi-chunk file reads back byte for byte, also through the driver’s GridFSBucket', async () => {
    const content = randomBytes(600 * 1024);
    await putFileOnce(mongo.db, bucket, 'multi', 'm.pdf', content);
    assert.deepEqual(Buffer.from((await readFile(mongo.db, bucket, 'multi', digest(content))) ?? []), content);
    const chunks: Buffer[] = [];
    // The driver's own reader, on purpose: what src/store/files.ts writes must stay plain GridFS.
    // eslint-disable-next-line no-restricted-syntax
    for await (const c of new GridFSBucket(mongo.db, { bucketName: bucket }).openDownloadStream('multi' as never)) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), content, 'the layout is GridFS’s own');
  });

  it('the same write twice keeps the one file; another content under the id replaces it', async () => {
    const first = randomBytes(1000);
    await putFileOnce(mongo.db, bucket, 'twice', 't.pdf', first);
    await putFileOnce(mongo.db, bucket, 'twice', 't.pdf', first);
    assert.deepEqual(Buffer.from((await readFile(mongo.db, bucket, 'twice', digest(first))) ?? []), first);
    const second = randomBytes(300 * 1024);
    await putFileOnce(mongo.db, bucket, 'twice', 't.pdf', second);
    assert.deepEqual(Buffer.from((await readFile(mongo.db, bucket, 'twice', digest(second))) ?? []), second);
  });

  it('a write that died after its chunks (no files document) is cleared and written again by the retry', async () => {
    const faulty = faultyDb(mongo.db, [{ collection: `${bucket}.files`, method: 'insertOne' }]);
    const content = randomBytes(400 * 1024);
    await assert.rejects(putFileOnce(faulty.db, bucket, 'crashed', 'c.pdf', content), /injected fault/);
    await putFileOnce(mongo.db, bucket, 'crashed', 'c.pdf', content);
    assert.deepEqual(Buffer.from((await readFile(mongo.db, bucket, 'crashed', digest(content))) ?? []), content);
  });

  it('a file that is not what its record says is an error; a deleted one is null', async () => {
    const content = randomBytes(2000);
    await putFileOnce(mongo.db, bucket, 'checked', 'k.pdf', content);
    await assert.rejects(
      readFile(mongo.db, bucket, 'checked', { size: content.byteLength, sha256: sha256Hex(Buffer.from('other')) }),
      StoredFileMismatchError,
    );
    assert.equal(await deleteFile(mongo.db, bucket, 'checked'), true);
    assert.equal(await readFile(mongo.db, bucket, 'checked', digest(content)), null);
    assert.equal(await deleteFile(mongo.db, bucket, 'checked'), false);
  });
});

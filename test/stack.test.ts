// The stack this run started is the real thing: Temporal with our search attributes registered,
// and a MongoDB-wire store that enforces unique indexes and keeps GridFS files intact.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { temporalClient, testDatabase } from './helpers/stack';
import type { MongoHandle } from '../src/store/mongo';
import { SigningStore } from '../src/signings/store';
import { isDuplicateKey } from '../src/store/insert-if-absent';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

describe('stack: Temporal dev server + FerretDB', () => {
  let mongo: MongoHandle;
  before(async () => {
    mongo = await testDatabase();
  });
  after(async () => {
    await mongo?.close();
  });

  it('Temporal has both search attributes registered as Keyword', async () => {
    const temporal = await temporalClient();
    try {
      const res = await temporal.client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) {
        assert.ok(name in (res.customAttributes ?? {}), `${name} registered`);
      }
    } finally {
      await temporal.close();
    }
  });

  it('the store enforces a unique index', async () => {
    // A probe collection of this test's own, owned by no store: the boundary rule does not apply.
    // eslint-disable-next-line no-restricted-syntax
    const coll = mongo.db.collection('uniq_probe');
    await coll.createIndex({ key: 1 }, { unique: true });
    await coll.insertOne({ key: 'a' });
    await assert.rejects(coll.insertOne({ key: 'a' }), isDuplicateKey);
    assert.equal(await coll.countDocuments({ key: 'a' }), 1);
  });

  it('GridFS keeps a multi-chunk file byte for byte', async () => {
    const store = new SigningStore(mongo.db);
    const content = new Uint8Array(randomBytes(700_000));
    await store.putSource('gridfs-probe', 'probe.pdf', content);
    const back = await store.readSource('gridfs-probe');
    assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(content)), 0);
  });
});

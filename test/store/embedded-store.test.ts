// `npm start`'s store (scripts/lib/ferret-store.ts startPersistentStore) on this machine's real
// PostgreSQL and FerretDB: its state comes back after a restart, and a state that cannot come back
// (the database was dropped, the server does not answer) stops the start with a message instead
// of an empty store that looks as if every signing vanished.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { dropOrphanedDatabases, startPersistentStore, embeddedStoreSettings } from '../../scripts/lib/ferret-store';
import {
  dropPostgresqlDatabases,
  freePort,
  listPostgresqlDatabases,
  preparePostgresqlStore,
  StackStartError,
} from '../../scripts/lib/stack';
import { connectMongo } from '../../src/store/mongo';

const work = mkdtempSync(join(tmpdir(), 'embedded-store-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function roundTrip(dataDir: string, write?: string): Promise<{ backend: string; reason: string; found: string[] }> {
  const store = await startPersistentStore({ port: await freePort(), dataDir, logDir: work });
  try {
    const mongo = await connectMongo(store.uri, 'embedded');
    try {
      if (write) await mongo.db.collection<{ _id: string }>('things').insertOne({ _id: write });
      const found = (await mongo.db.collection<{ _id: string }>('things').find({}).toArray()).map((d) => d._id);
      return { backend: store.backend, reason: store.reason, found };
    } finally {
      await mongo.close();
    }
  } finally {
    await store.stop();
  }
}

describe('the embedded store (npm start)', () => {
  it('lives in a PostgreSQL database of its own data directory and comes back after a restart', async () => {
    const dataDir = join(work, 'a');
    const first = await roundTrip(dataDir, 'kept');
    assert.match(first.backend, /^PostgreSQL /);
    assert.match(first.reason, /PostgreSQL answers/);
    const marker = JSON.parse(readFileSync(join(dataDir, 'postgresql.json'), 'utf8')) as { postgresqlUrl: string };
    assert.match(marker.postgresqlUrl, new RegExp(`/${embeddedStoreSettings().databasePrefix}embedded_[0-9a-f]{10}$`));
    const second = await roundTrip(dataDir);
    assert.match(second.reason, /its state is there/);
    assert.deepEqual(second.found, ['kept']);
  });

  it('refuses to start empty when the database its marker names was dropped', async () => {
    const dataDir = join(work, 'b');
    await roundTrip(dataDir, 'lost');
    const { postgresqlUrl } = JSON.parse(readFileSync(join(dataDir, 'postgresql.json'), 'utf8')) as { postgresqlUrl: string };
    const u = new URL(postgresqlUrl);
    const db = u.pathname.slice(1);
    u.pathname = '/';
    await dropPostgresqlDatabases(u.toString(), db);
    await assert.rejects(
      startPersistentStore({ port: await freePort(), dataDir, logDir: work }),
      (err: unknown) =>
        err instanceof StackStartError &&
        /no longer exists/.test(err.message) &&
        err.message.includes(dataDir) &&
        !/password/.test(err.message),
    );
  });

  it('refuses to start when the PostgreSQL its marker names does not answer, and says what to do', async () => {
    const dataDir = join(work, 'c');
    await roundTrip(dataDir);
    writeFileSync(
      join(dataDir, 'postgresql.json'),
      JSON.stringify({ postgresqlUrl: 'postgresql://postgres:secret@127.0.0.1:1/evrotrust_gone' }),
    );
    await assert.rejects(
      startPersistentStore({ port: await freePort(), dataDir, logDir: work }),
      (err: unknown) =>
        err instanceof StackStartError && /does not answer: start PostgreSQL/.test(err.message) && !err.message.includes('secret'),
    );
  });

  it('falls back to SQLite, saying why, when no PostgreSQL answers or it is switched off', async () => {
    for (const [url, why] of [
      ['postgresql://postgres@127.0.0.1:1/', /no PostgreSQL answers at postgresql:\/\/postgres@127\.0\.0\.1:1\//],
      ['off', /EMBEDDED_POSTGRESQL_URL=off/],
    ] as const) {
      const dataDir = join(work, `sqlite-${url === 'off' ? 'off' : 'down'}`);
      const store = await startPersistentStore({ port: await freePort(), dataDir, logDir: work, env: { EMBEDDED_POSTGRESQL_URL: url } });
      try {
        assert.match(store.backend, /^SQLite /);
        assert.match(store.reason, why);
        assert.equal(existsSync(join(dataDir, 'postgresql.json')), false);
      } finally {
        await store.stop();
      }
    }
  });

  it('drops the databases of runs whose process is gone, and only those', async () => {
    const { postgresqlServer, databasePrefix } = embeddedStoreSettings();
    assert.ok(postgresqlServer, 'this machine runs PostgreSQL');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid; // a pid that has exited
    assert.ok(gone);
    const dead = `${databasePrefix}scratch_${gone}_abcdef`;
    const live = `${databasePrefix}scratch_${process.pid}_abcdef`;
    await preparePostgresqlStore(`${postgresqlServer}${dead}suite`);
    await preparePostgresqlStore(`${postgresqlServer}${live}suite`);
    try {
      assert.deepEqual(await dropOrphanedDatabases(), [dead]);
      const left = await listPostgresqlDatabases(postgresqlServer, `${databasePrefix}scratch_`);
      assert.ok(!left.includes(`${dead}suite`), 'the dead run’s database is gone');
      assert.ok(left.includes(`${live}suite`), 'a live process keeps its database');
    } finally {
      await dropPostgresqlDatabases(postgresqlServer, live);
      await dropPostgresqlDatabases(postgresqlServer, dead);
    }
  });
});

// GET /v1/signings against a real SigningService on this run's Temporal and FerretDB (a fresh
// database), a worker and the simulator, through the production server composition with
// app.inject(). Most signings are records written with the store at chosen times and statuses, so
// each filter's answer can be compared with exactly the signings it must return; a few are started
// over HTTP, whose items must be what GET /v1/signings/:id answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../src/http/server';
import { signingApiRoutes } from '../../src/signings/routes';
import type { SigningResponse } from '../../src/signings/service';
import type { SigningDoc } from '../../src/store/collections';
import type { SigningStatus } from '../../workflows/definitions';
import { pdf, sentTransactions, SIGNER_A, useSigningEnv } from '../helpers/signing-env';
import { signingDoc } from '../helpers/signings';

const TOKEN = `test-${randomBytes(16).toString('hex')}`;
const auth = { authorization: `Bearer ${TOKEN}` };

interface Page {
  items: SigningResponse[];
  nextCursor: string | null;
}

const STATUSES: SigningStatus[] = ['pending', 'signed', 'rejected', 'expired', 'withdrawn', 'failed'];
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** A signing record as the service writes it, created at `createdAt`. */
const record = (createdAt: Date, status: SigningStatus, reference: string | null): SigningDoc =>
  signingDoc(randomUUID(), {
    status,
    reference,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 86_400_000),
    finalizedAt: status === 'pending' ? null : new Date(createdAt.getTime() + 1000),
  });

/** Newest first: createdAt, then id, descending (the API's order). */
const newestFirst = (a: { createdAt: Date; _id: string }, b: { createdAt: Date; _id: string }): number =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);

describe('GET /v1/signings', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });
  let app: FastifyInstance;
  /** The records written before the tests, newest first. */
  let seeded: SigningDoc[] = [];

  before(async () => {
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      plugins: [
        async (server) => {
          await server.register(signingApiRoutes, { service: env.service, apiToken: TOKEN });
        },
      ],
    });
    await app.ready();
    // 36 records, an hour apart, every status in turn; five more in one millisecond (a tie that a
    // page boundary must split without loss); references on a few, one a prefix of another.
    const docs: SigningDoc[] = [];
    for (let i = 0; i < 36; i++) {
      const reference = i === 3 ? 'order-1' : i === 10 ? 'order-10' : i === 11 ? 'order-11' : null;
      docs.push(record(new Date(T0 + i * 3_600_000), STATUSES[i % STATUSES.length] as SigningStatus, reference));
    }
    const tie = new Date(T0 + 20 * 3_600_000 + 1);
    for (let i = 0; i < 5; i++) docs.push(record(tie, i % 2 === 0 ? 'signed' : 'pending', null));
    for (const doc of docs) assert.equal(await env.store.create(doc), true);
    seeded = docs.sort(newestFirst);
  });
  after(async () => {
    await app?.close();
  });

  const get = (url: string, headers: Record<string, string> = auth): Promise<LightMyRequestResponse> =>
    app.inject({ method: 'GET', url, headers });
  const page = async (url: string): Promise<Page> => {
    const res = await get(url);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    return res.json<Page>();
  };
  /** Every item of the listing, following nextCursor; `between` runs after each page. */
  const walk = async (query: string, between?: (pageNo: number) => Promise<void>): Promise<{ ids: string[]; pages: Page[] }> => {
    const pages: Page[] = [];
    for (let cursor: string | null | undefined; cursor !== null;) {
      const p = await page(`/v1/signings?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(p);
      cursor = p.nextCursor;
      await between?.(pages.length);
      assert.ok(pages.length < 100, 'the walk ends');
    }
    return { ids: pages.flatMap((p) => p.items.map((i) => i.id)), pages };
  };
  const idsOf = (docs: SigningDoc[]) => docs.map((d) => d._id);
  const inRange = (from: number, to: number) => seeded.filter((d) => d.createdAt.getTime() >= from && d.createdAt.getTime() < to);
  // The seeded records alone: every signing started over HTTP is created now, long after them.
  const seededOnly = `createdBefore=${new Date(T0 + 86_400_000 * 30).toISOString()}`;

  it('items are what GET /v1/signings/:id answers, newest first; nextCursor null on the last page', async () => {
    const started: string[] = [];
    for (const reference of [`list-${randomUUID()}`, `list-${randomUUID()}`]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/signings',
        headers: auth,
        payload: { document: { filename: 'c.pdf', contentBase64: pdf(reference).toString('base64') }, signers: [SIGNER_A], reference },
      });
      assert.equal(res.statusCode, 202, res.body);
      started.push(res.json<{ id: string }>().id);
    }
    await Promise.all(started.map((id) => sentTransactions(env, id)));
    const listed = await page(`/v1/signings?createdAfter=${new Date(Date.now() - 600_000).toISOString()}`);
    assert.deepEqual(
      listed.items.map((i) => i.id),
      [...started].reverse(),
    );
    assert.equal(listed.nextCursor, null);
    for (const item of listed.items) assert.deepEqual(item, (await get(`/v1/signings/${item.id}`)).json());
    assert.doesNotMatch(JSON.stringify(listed), /7501010010/, 'no personal data');
  });

  it('status: one, several repeated, several comma-separated; each exactly the signings with it', async () => {
    const signed = seeded.filter((d) => d.status === 'signed');
    assert.deepEqual(
      (await page(`/v1/signings?status=signed&limit=200&${seededOnly}`)).items.map((i) => i.id),
      idsOf(signed),
    );
    const two = seeded.filter((d) => d.status === 'rejected' || d.status === 'failed');
    for (const q of ['status=rejected&status=failed', 'status=failed,rejected', 'status=rejected,%20failed&status=rejected']) {
      const p = await page(`/v1/signings?${q}&limit=200&${seededOnly}`);
      assert.deepEqual(
        p.items.map((i) => i.id),
        idsOf(two),
        q,
      );
      assert.ok(p.items.every((i) => i.status === 'rejected' || i.status === 'failed'));
    }
    const all = await page(`/v1/signings?limit=200&${seededOnly}&${STATUSES.map((s) => `status=${s}`).join('&')}`);
    assert.deepEqual(
      all.items.map((i) => i.id),
      idsOf(seeded),
    );
  });

  it('reference: exact match only, combinable with status', async () => {
    const one = seeded.find((d) => d.reference === 'order-1') as SigningDoc;
    assert.deepEqual(
      (await page('/v1/signings?reference=order-1')).items.map((i) => i.id),
      [one._id],
    );
    assert.deepEqual(
      (await page(`/v1/signings?reference=order-1&status=${one.status}`)).items.map((i) => i.id),
      [one._id],
    );
    const other = STATUSES.find((s) => s !== one.status) as string;
    assert.deepEqual((await page(`/v1/signings?reference=order-1&status=${other}`)).items, []);
    assert.deepEqual((await page('/v1/signings?reference=order')).items, []);
  });

  it('createdAfter ≤ createdAt < createdBefore, alone or together, with status', async () => {
    const from = T0 + 10 * 3_600_000; // exactly the 11th record's createdAt: included
    const to = T0 + 20 * 3_600_000; // exactly the 21st record's: excluded (the tie is 1 ms later: excluded too)
    const q = (after?: number, before?: number, extra = '') =>
      `/v1/signings?limit=200${after !== undefined ? `&createdAfter=${new Date(after).toISOString()}` : ''}${
        before !== undefined ? `&createdBefore=${new Date(before).toISOString()}` : ''
      }${extra}`;
    assert.deepEqual(
      (await page(q(from, to))).items.map((i) => i.id),
      idsOf(inRange(from, to)),
    );
    assert.equal(inRange(from, to).length, 10);
    assert.deepEqual(
      (await page(q(undefined, to))).items.map((i) => i.id),
      idsOf(inRange(0, to)),
    );
    assert.deepEqual(
      (await page(q(to, T0 + 86_400_000 * 30))).items.map((i) => i.id),
      idsOf(inRange(to, T0 + 86_400_000 * 30)),
    );
    // An offset is the same instant: 12:00+02:00 is 10:00Z.
    const offset = (await page(`/v1/signings?limit=200&createdAfter=2026-01-01T12:00:00%2B02:00&createdBefore=2026-01-01T14:00:00Z`)).items;
    assert.deepEqual(
      offset.map((i) => i.id),
      idsOf(inRange(T0 + 10 * 3_600_000, T0 + 14 * 3_600_000)),
    );
    const pending = inRange(from, to).filter((d) => d.status === 'pending');
    assert.deepEqual(
      (await page(q(from, to, '&status=pending'))).items.map((i) => i.id),
      idsOf(pending),
    );
    assert.deepEqual(
      (await page(q(from, to, '&reference=order-10'))).items.map((i) => i.id),
      idsOf(seeded.filter((d) => d.reference === 'order-10')),
    );
  });

  it('pagination walks every signing once, in order, splitting a same-millisecond tie; the default page is 50', async () => {
    for (const limit of [1, 2, 7, 41, 200]) {
      const { ids, pages } = await walk(`limit=${limit}&${seededOnly}`);
      assert.deepEqual(ids, idsOf(seeded), `limit ${limit}`);
      assert.equal(pages.length, Math.max(1, Math.ceil(seeded.length / limit)), `limit ${limit}: no empty last page`);
      assert.ok(pages.slice(0, -1).every((p) => p.items.length === limit));
    }
    const signed = seeded.filter((d) => d.status === 'signed');
    assert.deepEqual((await walk(`status=signed&limit=2&${seededOnly}`)).ids, idsOf(signed));
    // The page size may change between pages; the cursor is bound to the filters, not the limit.
    const first = await page(`/v1/signings?limit=3&${seededOnly}`);
    const next = await page(`/v1/signings?limit=5&${seededOnly}&cursor=${first.nextCursor}`);
    assert.deepEqual(
      [...first.items, ...next.items].map((i) => i.id),
      idsOf(seeded).slice(0, 8),
    );
    // Default 50: more than all seeded ones fit in one page.
    const whole = await page(`/v1/signings?${seededOnly}`);
    assert.equal(whole.items.length, seeded.length);
    assert.equal(whole.nextCursor, null);
  });

  it('signings created while a caller pages neither repeat nor shift what is still to come', async () => {
    const existing = (await page('/v1/signings?limit=200')).items.map((i) => i.id);
    const fresh: string[] = [];
    const behind: string[] = [];
    const { ids } = await walk('limit=4', async (n) => {
      // New signings, newer than the cursor: a record, a real start over HTTP; and one far back in
      // the listing, as a writer whose clock is behind would make it.
      const now = record(new Date(), 'pending', null);
      const back = record(new Date(T0 + 5 * 3_600_000 + n), 'signed', null);
      const [res] = await Promise.all([
        app.inject({
          method: 'POST',
          url: '/v1/signings',
          headers: auth,
          payload: { document: { filename: 'c.pdf', contentBase64: pdf(randomUUID()).toString('base64') }, signers: [SIGNER_A] },
        }),
        env.store.create(now),
        env.store.create(back),
      ]);
      assert.equal(res.statusCode, 202, res.body);
      fresh.push(now._id, res.json<{ id: string }>().id);
      behind.push(back._id);
    });
    assert.equal(new Set(ids).size, ids.length, 'no signing twice');
    assert.deepEqual(
      ids.filter((id) => !behind.includes(id)),
      existing,
      'every signing there before the walk, in order, and none created after it began',
    );
    assert.ok(fresh.length > 8 && fresh.every((id) => !ids.includes(id)));
    assert.ok(
      ids.some((id) => behind.includes(id)),
      'a record inserted behind the cursor is found once',
    );
  });

  describe('bad input: 400 (401 without a token) naming what to fix', () => {
    const cases: { name: string; url: string; code: string; message: RegExp }[] = [
      { name: 'limit 0', url: '/v1/signings?limit=0', code: 'invalid-request', message: /^limit must be a whole number from 1 to 200$/ },
      {
        name: 'limit 500',
        url: '/v1/signings?limit=500',
        code: 'invalid-request',
        message: /^limit must be a whole number from 1 to 200$/,
      },
      { name: 'limit 2.5', url: '/v1/signings?limit=2.5', code: 'invalid-request', message: /^limit must be a whole number/ },
      { name: 'limit twice', url: '/v1/signings?limit=2&limit=3', code: 'invalid-request', message: /^limit must be given once$/ },
      {
        name: 'unknown status',
        url: '/v1/signings?status=done',
        code: 'invalid-request',
        message: /^status must be one or more of pending, signed, rejected, expired, withdrawn, failed/,
      },
      {
        name: 'one bad status of two',
        url: '/v1/signings?status=signed,nope',
        code: 'invalid-request',
        message: /^status must be one or more/,
      },
      { name: 'empty status', url: '/v1/signings?status=', code: 'invalid-request', message: /^status must be one or more/ },
      {
        name: 'a date without a time',
        url: '/v1/signings?createdAfter=2026-12-01',
        code: 'invalid-request',
        message: /^createdAfter must be an ISO-8601 instant with a time zone, e\.g\. 2026-12-01T00:00:00Z$/,
      },
      {
        name: 'no time zone',
        url: '/v1/signings?createdBefore=2026-12-01T00:00:00',
        code: 'invalid-request',
        message: /^createdBefore must be an ISO-8601 instant/,
      },
      {
        name: 'not a date',
        url: '/v1/signings?createdBefore=yesterday',
        code: 'invalid-request',
        message: /^createdBefore must be an ISO-8601/,
      },
      {
        name: 'after later than before',
        url: '/v1/signings?createdAfter=2026-12-02T00:00:00Z&createdBefore=2026-12-01T00:00:00Z',
        code: 'invalid-request',
        message: /^createdAfter must be before createdBefore$/,
      },
      {
        name: 'after equal to before',
        url: '/v1/signings?createdAfter=2026-12-01T00:00:00Z&createdBefore=2026-12-01T00:00:00.000Z',
        code: 'invalid-request',
        message: /^createdAfter must be before createdBefore$/,
      },
      { name: 'empty reference', url: '/v1/signings?reference=', code: 'invalid-request', message: /^reference must not be empty$/ },
      {
        name: 'unknown parameter',
        url: '/v1/signings?state=signed',
        code: 'invalid-request',
        message: /^unknown parameter "state"; the parameters are status, reference, createdAfter, createdBefore, limit, cursor$/,
      },
      {
        name: 'garbage cursor',
        url: '/v1/signings?cursor=not*a*cursor',
        code: 'invalid-cursor',
        message: /^cursor is not one this API made; pass the nextCursor/,
      },
      {
        name: 'base64url of something else',
        url: `/v1/signings?cursor=${Buffer.from('{"v":2,"t":1,"i":"x","f":"0000000000000000"}').toString('base64url')}`,
        code: 'invalid-cursor',
        message: /^cursor is not one this API made/,
      },
      { name: 'empty cursor', url: '/v1/signings?cursor=', code: 'invalid-request', message: /^cursor must not be empty$/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const res = await get(c.url);
        assert.equal(res.statusCode, 400, res.body);
        assert.deepEqual(res.json(), { error: c.code, message: res.json<{ message: string }>().message });
        assert.match(res.json<{ message: string }>().message, c.message);
      });
    }

    it('a cursor with other filters than it was made with', async () => {
      const signed = await page(`/v1/signings?status=signed&limit=1&${seededOnly}`);
      assert.ok(signed.nextCursor);
      for (const other of [
        `status=rejected&${seededOnly}`,
        seededOnly,
        `status=signed&reference=order-1&${seededOnly}`,
        `status=signed&createdAfter=${new Date(T0).toISOString()}&${seededOnly}`,
        'status=signed',
      ]) {
        const res = await get(`/v1/signings?${other}&cursor=${signed.nextCursor}`);
        assert.equal(res.statusCode, 400, other);
        assert.deepEqual(res.json(), {
          error: 'invalid-cursor',
          message:
            'cursor belongs to a listing with other filters; send it with the same status, reference, createdAfter and createdBefore as the request that returned it, or leave cursor out to start over',
        });
      }
      // The same filters written otherwise are the same filters.
      const same = await get(`/v1/signings?${seededOnly}&status=signed,signed&cursor=${signed.nextCursor}`);
      assert.equal(same.statusCode, 200, same.body);
    });

    it('no token, or a wrong one: 401', async () => {
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}x` }] as Record<string, string>[]) {
        const res = await get('/v1/signings', headers);
        assert.equal(res.statusCode, 401);
        assert.equal(res.json<{ error: string }>().error, 'unauthorized');
        assert.match(String(res.headers['www-authenticate']), /^Bearer realm="evrotrust-signing"/);
      }
    });
  });
});

// Who may call the callback routes, over real sockets from distinct loopback source addresses:
// IPv4, IPv6, IPv4-mapped IPv6, CIDR ranges, and X-Forwarded-For believed only from TRUST_PROXY.
// A denied caller gets 403, a log line without body content, a metric, and nothing is stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AddressSet, foldAddress, InvalidAddressEntryError, resolveCaller } from '../../src/callbacks';
import type { MongoHandle } from '../../src/store/mongo';
import { testDatabase } from '../helpers/stack';
import { callbackFor, metricValue, newTransactionId, post, startCallbackApp, type CallbackApp } from './helpers';

const PATH = '/evrotrust/callback/document/ready';

describe('address helpers', () => {
  it('folds IPv4-mapped IPv6 to IPv4 and canonicalizes IPv6', () => {
    assert.equal(foldAddress('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(foldAddress('::FFFF:7f00:2'), '127.0.0.2');
    assert.equal(foldAddress('0:0:0:0:0:ffff:c000:0201'), '192.0.2.1');
    assert.equal(foldAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(foldAddress('[2001:db8::1]:443'), '2001:db8::1');
    assert.equal(foldAddress('203.0.113.9:1234'), '203.0.113.9');
    assert.equal(foldAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(foldAddress('unknown'), undefined);
    assert.equal(foldAddress('999.1.1.1'), undefined);
    assert.equal(foldAddress(''), undefined);
  });

  it('matches addresses and CIDR ranges of both families, mapped forms included', () => {
    const set = new AddressSet(['203.0.113.10', '198.51.100.0/24', '2001:db8::/32', '::1', '::ffff:192.0.2.0/120']);
    assert.ok(set.has('203.0.113.10'));
    assert.ok(set.has('::ffff:203.0.113.10'));
    assert.ok(!set.has('203.0.113.11'));
    assert.ok(set.has('198.51.100.255'));
    assert.ok(!set.has('198.51.101.0'));
    assert.ok(set.has('2001:db8:ffff::5'));
    assert.ok(!set.has('2001:db9::5'));
    assert.ok(set.has('::1'));
    assert.ok(set.has('192.0.2.77'), 'a mapped /120 is the IPv4 /24');
    assert.ok(!set.has('not-an-ip'));
  });

  it('refuses entries that are not addresses or ranges', () => {
    for (const bad of ['1.2.3.4/33', '::1/129', 'example.com', '1.2.3.4/x', '1.2.3.4/8/8', '']) {
      assert.throws(() => new AddressSet([bad]), InvalidAddressEntryError, bad);
    }
  });

  it('takes the right-most X-Forwarded-For address that is not a trusted proxy, only from a trusted peer', () => {
    const proxies = new AddressSet(['10.0.0.0/8']);
    assert.deepEqual(resolveCaller('::ffff:10.0.0.5', '198.51.100.7, 10.0.0.9', proxies), {
      address: '198.51.100.7',
      peer: '10.0.0.5',
      forwarded: true,
    });
    assert.equal(resolveCaller('10.0.0.5', '203.0.113.1, 198.51.100.7', proxies).address, '198.51.100.7', 'a spoofed left part is ignored');
    assert.equal(
      resolveCaller('10.0.0.5', ['203.0.113.1', '198.51.100.7, 10.1.1.1'], proxies).address,
      '198.51.100.7',
      'several headers are one list',
    );
    assert.equal(resolveCaller('192.0.2.1', '203.0.113.1', proxies).address, '192.0.2.1', 'not from a proxy: the header means nothing');
    assert.equal(resolveCaller('10.0.0.5', undefined, proxies).address, '10.0.0.5', 'no header: the proxy itself');
    assert.equal(resolveCaller('10.0.0.5', '10.0.0.7, 10.0.0.8', proxies).address, '10.0.0.7', 'all proxies: the left-most');
    assert.equal(resolveCaller('10.0.0.5', '203.0.113.1, garbage', proxies).address, undefined, 'unparseable hop: unknown caller');
    assert.equal(resolveCaller('10.0.0.5', '203.0.113.1', new AddressSet([])).address, '10.0.0.5', 'no TRUST_PROXY: never believed');
  });
});

describe('allowlist over real sockets', () => {
  let mongo: MongoHandle;
  const apps: CallbackApp[] = [];

  before(async () => {
    mongo = await testDatabase();
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await mongo?.close();
  });

  async function app(allowedIps: string[], trustProxy: string[] = [], host = '::'): Promise<CallbackApp> {
    const a = await startCallbackApp({ db: mongo.db, allowedIps, trustProxy, host });
    apps.push(a);
    return a;
  }

  const stored = (tx: string) => callbackFor(mongo.db, tx);

  /** Sends a valid callback with a marker in its body and asserts it is refused and leaves no trace. */
  async function expectDenied(a: CallbackApp, from: string, headers: Record<string, string> = {}, to?: string): Promise<void> {
    const tx = newTransactionId();
    const before403 = await metricValue(a.metrics, 'evrotrust_callbacks_rejected_total', { reason: 'forbidden' });
    const logCount = a.logs.length;
    const res = await post(a.port, PATH, { transactionID: tx, status: 2, rejectReason: 'SECRET-REASON-MARKER' }, { from, headers, to });
    assert.equal(res.status, 403, `from ${from} ${JSON.stringify(headers)}: ${res.text}`);
    assert.deepEqual(Object.keys(res.json as object).sort(), ['error', 'message']);
    assert.equal((res.json as { error: string }).error, 'forbidden');
    assert.equal(await stored(tx), null, 'nothing stored');
    assert.equal(await metricValue(a.metrics, 'evrotrust_callbacks_rejected_total', { reason: 'forbidden' }), before403 + 1);
    const newLogs = a.logs.slice(logCount).join('');
    assert.match(newLogs, /callback refused: caller not in CALLBACK_ALLOWED_IPS|unparseable X-Forwarded-For/);
    assert.ok(!newLogs.includes('SECRET-REASON-MARKER') && !newLogs.includes(tx), 'no body content in logs');
  }

  async function expectAllowed(a: CallbackApp, from: string, headers: Record<string, string> = {}, to?: string) {
    const tx = newTransactionId();
    const res = await post(a.port, PATH, { transactionID: tx, status: 2 }, { from, headers, to });
    assert.equal(res.status, 200, `from ${from} ${JSON.stringify(headers)}: ${res.text}`);
    assert.equal(res.text, '');
    const doc = await stored(tx);
    assert.ok(doc, 'stored');
    return doc;
  }

  it('IPv4 on an IPv4 socket: the listed address is allowed, another loopback address is not', async () => {
    const a = await app(['127.0.0.2'], [], '127.0.0.1');
    const doc = await expectAllowed(a, '127.0.0.2');
    assert.equal(doc.sourceAddress, '127.0.0.2');
    assert.equal(doc.peerAddress, '127.0.0.2');
    await expectDenied(a, '127.0.0.3');
  });

  it('IPv4-mapped: on a dual-stack socket the peer ::ffff:127.0.0.2 matches the IPv4 entry', async () => {
    const a = await app(['127.0.0.2']);
    const doc = await expectAllowed(a, '127.0.0.2');
    assert.equal(doc.sourceAddress, '127.0.0.2', 'stored folded to IPv4');
    await expectDenied(a, '127.0.0.3');
    // and an entry written in the mapped form matches a plain IPv4 peer
    const mappedEntry = await app(['::ffff:127.0.0.3'], [], '127.0.0.1');
    await expectAllowed(mappedEntry, '127.0.0.3');
    await expectDenied(mappedEntry, '127.0.0.2');
  });

  it('IPv6: ::1 is allowed when listed and denied when not', async () => {
    const listed = await app(['::1']);
    const doc = await expectAllowed(listed, '::1');
    assert.equal(doc.sourceAddress, '::1');
    const unlisted = await app(['127.0.0.2', '2001:db8::/32']);
    await expectDenied(unlisted, '::1');
  });

  it('CIDR: 127.0.0.0/30 admits .2 and .3 but not .4; ::/127 admits ::1', async () => {
    const a = await app(['127.0.0.0/30', '::/127']);
    await expectAllowed(a, '127.0.0.2');
    await expectAllowed(a, '127.0.0.3');
    await expectDenied(a, '127.0.0.4');
    await expectAllowed(a, '::1');
  });

  it('X-Forwarded-For without TRUST_PROXY is ignored: a spoofed allowed address does not help', async () => {
    const a = await app(['127.0.0.2']);
    await expectDenied(a, '127.0.0.3', { 'x-forwarded-for': '127.0.0.2' });
  });

  it('X-Forwarded-For from a TRUST_PROXY peer: the right-most non-proxy address decides', async () => {
    const a = await app(['127.0.0.2'], ['127.0.0.3', '127.0.0.5']);
    const doc = await expectAllowed(a, '127.0.0.3', { 'x-forwarded-for': '127.0.0.2' });
    assert.equal(doc.sourceAddress, '127.0.0.2');
    assert.equal(doc.peerAddress, '127.0.0.3');
    // two proxies in a row
    await expectAllowed(a, '127.0.0.3', { 'x-forwarded-for': '127.0.0.2, 127.0.0.5' });
    // the client prepended an allowed address; the proxy appended the real one
    await expectDenied(a, '127.0.0.3', { 'x-forwarded-for': '127.0.0.2, 198.51.100.7' });
    // a peer that is not a trusted proxy cannot forward for anyone
    await expectDenied(a, '127.0.0.4', { 'x-forwarded-for': '127.0.0.2' });
    // the proxy without a header is itself the caller, and it is not allowed
    await expectDenied(a, '127.0.0.3');
    // a malformed hop from a proxy: the caller cannot be told
    await expectDenied(a, '127.0.0.3', { 'x-forwarded-for': '127.0.0.2, not-an-address' });
  });

  it('denies before reading the body: oversized or non-JSON bodies from a denied caller are 403, not 413/415', async () => {
    const a = await app(['127.0.0.2']);
    const big = await post(a.port, PATH, 'x'.repeat(64 * 1024), { from: '127.0.0.3' });
    assert.equal(big.status, 403);
    const text = await post(a.port, PATH, 'hello', { from: '127.0.0.3', contentType: 'text/plain' });
    assert.equal(text.status, 403);
    assert.equal(await metricValue(a.metrics, 'evrotrust_callbacks_rejected_total', { reason: 'too-large' }), 0);
  });

  it('applies to the callback routes only: other routes of the server answer any caller', async () => {
    const a = await app(['127.0.0.2']);
    const res = await post(a.port, '/healthz', '', { from: '127.0.0.3', method: 'GET', contentType: null });
    assert.equal(res.status, 200);
    const metrics = await post(a.port, '/metrics', '', { from: '127.0.0.3', method: 'GET', contentType: null });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /evrotrust_callbacks_rejected_total/);
  });
});

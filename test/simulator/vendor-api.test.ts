// The vendor API over real HTTP: authorization, validation, the HTTP codes the simulator produces
// by itself, ids, statuses, withdraw, and fault injection.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizationHeader } from '../../src/evrotrust/auth';
import { SANDBOX_API_KEY, type Simulator } from '../../simulator';
import {
  OTHER_EGN,
  VALID_EGN,
  offlineData,
  onlineData,
  samplePdf,
  sendOnline,
  startTestSimulator,
  vendorJson,
  vendorMultipart,
} from './helpers';
import { waitFor } from '../helpers/wait';

let sim: Simulator;

before(async () => {
  sim = await startTestSimulator({ maxFileBytes: 64 * 1024 });
});
after(async () => {
  await sim.close();
});

describe('authorization', () => {
  it('reproduces the published Authorization example (the check the simulator makes)', () => {
    const body = '{"vendorNumber":"ahZsmRHbDHL6TeED","user":{"identificationNumber":"8611048980"}}';
    assert.equal(
      authorizationHeader('7f4b9ef3-298d-4ced-8656-a5d8b7f96666', body),
      '5a90fc151ff466434e615f1a6aac28228e8607d900b8f9129e8bfa919cff5140',
    );
  });

  it('answers 401 to a wrong, missing or foreign-key Authorization header', async () => {
    const body = { user: { identificationNumber: VALID_EGN } };
    assert.equal((await vendorJson(sim, '/user/check/extended', body, { authorization: 'deadbeef' })).status, 401);
    assert.equal((await vendorJson(sim, '/user/check/extended', body, { authorization: '' })).status, 401);
    assert.equal((await vendorJson(sim, '/user/check/extended', body, { apiKey: 'another-key' })).status, 401);
    assert.equal((await vendorJson(sim, '/user/check/extended', body)).status, 200);
  });

  it('signs the exact bytes: the same JSON with different spacing and a header for the compact form is 401', async () => {
    const compact = JSON.stringify({ vendorNumber: 'SandboxVendor001', transactionID: '1' });
    const spaced = JSON.stringify(JSON.parse(compact), null, 2);
    const res = await fetch(`${sim.vendorBaseUrl}/document/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: authorizationHeader(SANDBOX_API_KEY, compact) },
      body: spaced,
    });
    assert.equal(res.status, 401);
  });

  it('answers 401 to another vendorNumber even when the header matches the body', async () => {
    const res = await vendorJson(sim, '/user/check/extended', { vendorNumber: 'someone-else', user: { identificationNumber: VALID_EGN } });
    assert.equal(res.status, 401);
  });

  it('checks multipart calls over the `data` string only, and answers 401 to a wrong one', async () => {
    assert.equal((await vendorMultipart(sim, '/document/doc/online', onlineData(), {}, { authorization: 'abc' })).status, 401);
    assert.equal((await vendorMultipart(sim, '/document/doc/online', onlineData())).status, 200);
  });
});

describe('validation', () => {
  it('answers 400 to a body that is not JSON or has the wrong shape', async () => {
    const text = 'not json';
    const res = await fetch(`${sim.vendorBaseUrl}/document/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: authorizationHeader(SANDBOX_API_KEY, text) },
      body: text,
    });
    assert.equal(res.status, 400);
    assert.equal((await vendorJson(sim, '/document/status', {})).status, 400);
    assert.equal((await vendorJson(sim, '/document/withdraw', { threadID: { nested: true } })).status, 400);
  });

  it('answers 400 to a document whose checksum does not match, a past dateExpire, a bad publicKey or a missing file', async () => {
    const bad = onlineData();
    (bad.document as Record<string, unknown>).checksumDocument = 'ab'.repeat(64);
    assert.equal((await vendorMultipart(sim, '/document/doc/online', bad)).status, 400);
    const past = onlineData({ dateExpire: Math.floor(Date.now() / 1000) - 10 });
    assert.equal((await vendorMultipart(sim, '/document/doc/online', past)).status, 400);
    assert.equal(
      (await vendorMultipart(sim, '/document/doc/online', { ...onlineData(), publicKey: Buffer.from('nope').toString('base64') })).status,
      400,
    );
    const longText = onlineData({ description: 'x'.repeat(4001) });
    assert.equal((await vendorMultipart(sim, '/document/doc/online', longText)).status, 400);
    assert.equal((await vendorMultipart(sim, '/document/doc/online', onlineData(), { content: new Uint8Array() })).status, 400);
  });

  it('answers 450 to a file over maxFileBytes', async () => {
    const big = new Uint8Array(64 * 1024 + 1);
    big.set(Buffer.from('%PDF-1.7\n'));
    const res = await vendorMultipart(sim, '/document/doc/online', onlineData({ content: big }), { content: big });
    assert.equal(res.status, 450);
  });

  it('answers 454 to a coverage outside 0, 500, 20000, 100000, 250000', async () => {
    assert.equal((await vendorMultipart(sim, '/document/doc/online', onlineData({ coverage: 1000 }))).status, 454);
    assert.equal((await vendorMultipart(sim, '/document/doc/online', onlineData({ coverage: 250000 }))).status, 200);
  });

  it('accepts a non-PDF file under a CAD type, refuses a PDF or XML type for it (400), and a program (457)', async () => {
    const png = Buffer.from('\x89PNG\r\n\x1a\n0000', 'latin1');
    const asCad = { ...onlineData({ content: png }), signInfo: { type: 'CAD1', algorithm: 'SHA256' } };
    assert.equal((await vendorMultipart(sim, '/document/doc/online', asCad, { content: png, filename: 'a.png' })).status, 200);
    for (const type of ['PDF1', 'XML1']) {
      const wrong = { ...onlineData({ content: png }), signInfo: { type, algorithm: 'SHA256' } };
      assert.equal((await vendorMultipart(sim, '/document/doc/online', wrong, { content: png, filename: 'a.png' })).status, 400, type);
    }
    const xml = Buffer.from('<?xml version="1.0"?><doc>x</doc>', 'utf8');
    const asXml = { ...onlineData({ content: xml }), signInfo: { type: 'XML1', algorithm: 'SHA256' } };
    assert.equal((await vendorMultipart(sim, '/document/doc/online', asXml, { content: xml, filename: 'a.xml' })).status, 200);
    const exe = Buffer.from('MZ\x90\x00program', 'latin1');
    const program = { ...onlineData({ content: exe }), signInfo: { type: 'CAD1', algorithm: 'SHA256' } };
    assert.equal((await vendorMultipart(sim, '/document/doc/online', program, { content: exe, filename: 'a.exe' })).status, 457);
  });

  it('answers 400 to a send without signInfo, with an unknown type, or with another algorithm', async () => {
    const { signInfo: _omitted, ...withoutSignInfo } = onlineData();
    const res = await vendorMultipart(sim, '/document/doc/online', withoutSignInfo);
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(res.json), /signInfo/);
    assert.equal(
      (await vendorMultipart(sim, '/document/doc/online', { ...onlineData(), signInfo: { type: 'PDF9', algorithm: 'SHA256' } })).status,
      400,
    );
    assert.equal(
      (await vendorMultipart(sim, '/document/doc/online', { ...onlineData(), signInfo: { type: 'PDF1', algorithm: 'SHA1' } })).status,
      400,
    );
    const { signInfo: _o2, ...offlineWithout } = offlineData();
    assert.equal((await vendorMultipart(sim, '/document/doc/offline', offlineWithout)).status, 400);
  });

  it('answers 400 to a users[] item with more than one identifier; country does not count as one', async () => {
    for (const user of [
      { identificationNumber: VALID_EGN, phone: '+359888123456' },
      { phone: '+359888123456', email: 'ivan@example.bg' },
      { identificationNumber: VALID_EGN, country: 'BG', email: 'ivan@example.bg' },
    ]) {
      const res = await vendorMultipart(sim, '/document/doc/online', onlineData({ users: [user] }));
      assert.equal(res.status, 400, JSON.stringify(Object.keys(user)));
      assert.match(JSON.stringify(res.json), /exactly one of identificationNumber, phone, email/);
    }
    assert.equal(
      (await vendorMultipart(sim, '/document/doc/online', onlineData({ users: [{ country: 'BG' }] }))).status,
      400,
      'country alone is no identifier',
    );
    assert.equal(
      (await vendorMultipart(sim, '/document/doc/online', onlineData({ users: [{ identificationNumber: VALID_EGN, country: 'BG' }] })))
        .status,
      200,
    );
  });

  it('answers 449 to an OTP phone without the leading + of the Swagger pattern', async () => {
    assert.equal((await vendorMultipart(sim, '/document/doc/offline', offlineData({ phone: '0888123456' }))).status, 449);
    assert.equal((await vendorMultipart(sim, '/document/doc/offline', offlineData({ phone: '+359888123456' }))).status, 200);
  });
});

describe('users', () => {
  it('reports a well-formed user as registered and ready to sign', async () => {
    const res = await vendorJson(sim, '/user/check/extended', { user: { identificationNumber: VALID_EGN, country: 'BG' } });
    assert.equal(res.status, 200);
    // The help portal's shape: 0/1 integers, an integer rejectReason, isReadyToSign included.
    assert.deepEqual(res.json, {
      isRegistered: 1,
      isIdentified: 1,
      isRejected: 0,
      rejectReason: 0,
      isSupervised: 0,
      isReadyToSign: 1,
      hasConfirmedPhone: 1,
      hasConfirmedEmail: 1,
    });
    assert.equal((await vendorJson(sim, '/user/check/extended', { user: { phone: '+359 888 000 111' } })).status, 200);
    assert.equal((await vendorJson(sim, '/user/check/extended', { user: { email: 'Ivan@Example.bg' } })).status, 200);
  });

  it('answers 449 to malformed user data (bad ЕГН checksum, bad date, no identifier)', async () => {
    assert.equal((await vendorJson(sim, '/user/check/extended', { user: { identificationNumber: '8611048981' } })).status, 449);
    assert.equal((await vendorJson(sim, '/user/check/extended', { user: { identificationNumber: '8613048980' } })).status, 449);
    assert.equal((await vendorJson(sim, '/user/check/extended', { user: {} })).status, 449);
    assert.equal((await vendorJson(sim, '/user/check/extended', { user: { email: 'no-at-sign' } })).status, 449);
    assert.equal(await sendOnlineStatus({ users: [{ identificationNumber: '1234567890' }] }), 449);
  });

  it('checks an unknown user with 200 and isRegistered 0 (a send to them is 438), and one without a certificate as not ready (442)', async () => {
    sim.controls.setUser('+359888555001', { isRegistered: false });
    const unknown = await vendorJson(sim, '/user/check/extended', { user: { phone: '+359 888 555 001' } });
    assert.equal(unknown.status, 200);
    assert.deepEqual(unknown.json, {
      isRegistered: 0,
      isIdentified: 0,
      isRejected: 0,
      rejectReason: 0,
      isSupervised: 0,
      isReadyToSign: 0,
      hasConfirmedPhone: 0,
      hasConfirmedEmail: 0,
    });
    assert.equal(await sendOnlineStatus({ users: [{ phone: '+359888555001' }] }), 438);

    sim.controls.setUser('nocert@example.bg', { hasCertificate: false, isReadyToSign: false });
    const check = await vendorJson(sim, '/user/check/extended', { user: { email: 'nocert@example.bg' } });
    assert.equal(check.status, 200);
    assert.equal((check.json as { isReadyToSign: number }).isReadyToSign, 0);
    assert.equal(await sendOnlineStatus({ users: [{ email: 'NoCert@example.bg' }] }), 442);
  });
});

async function sendOnlineStatus(input: Parameters<typeof onlineData>[0]): Promise<number> {
  return (await vendorMultipart(sim, '/document/doc/online', onlineData(input))).status;
}

describe('online signing', () => {
  it('gives one threadID per request and one transactionID per signer', async () => {
    const created = await sendOnline(sim, { users: [{ identificationNumber: VALID_EGN, country: 'BG' }, { email: 'second@example.bg' }] });
    assert.match(created.threadID, /^\d{12}$/);
    assert.equal(created.transactions.length, 2);
    const [first, second] = created.transactions;
    assert.ok(first && second);
    assert.notEqual(first.transactionID, second.transactionID);
    assert.notEqual(first.transactionID, created.threadID);
    assert.equal(created.transactionID, first.transactionID);
    assert.deepEqual(first, {
      transactionID: first.transactionID,
      identificationNumber: VALID_EGN,
      country: 'BG',
      email: null,
      phone: null,
    });
    assert.equal(second.email, 'second@example.bg');
    const again = await sendOnline(sim);
    assert.notEqual(again.threadID, created.threadID);
  });

  it('reports pending, then signed while processing, then signed and done', async () => {
    const { transactionID } = await sendOnline(sim);
    assert.deepEqual((await vendorJson(sim, '/document/status', { transactionID })).json, {
      status: 1,
      isProcessing: false,
      rejectReason: null,
    });
    await sim.controls.sign(transactionID);
    assert.deepEqual((await vendorJson(sim, '/document/status', { transactionID })).json, {
      status: 2,
      isProcessing: true,
      rejectReason: null,
    });
    assert.equal((await vendorJson(sim, '/document/download', { transactionID })).status, 443, 'no download while processing');
    await waitFor(
      async () => ((await vendorJson(sim, '/document/status', { transactionID })).json as { isProcessing: boolean }).isProcessing === false,
      'processing to end',
    );
    assert.deepEqual((await vendorJson(sim, '/document/status', { transactionID })).json, {
      status: 2,
      isProcessing: false,
      rejectReason: null,
    });
    const download = await vendorJson(sim, '/document/download', { transactionID });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/zip');
    assert.equal(Buffer.from(download.bytes.subarray(0, 2)).toString('latin1'), 'PK');
  });

  it('accepts a numeric transactionID as well as a string', async () => {
    const { transactionID } = await sendOnline(sim);
    assert.equal((await vendorJson(sim, '/document/status', { transactionID: Number(transactionID) })).status, 200);
  });

  it('reports a rejection with its reason', async () => {
    const { transactionID } = await sendOnline(sim);
    await sim.controls.reject(transactionID, 'Wrong amount in clause 4');
    assert.deepEqual((await vendorJson(sim, '/document/status', { transactionID })).json, {
      status: 3,
      isProcessing: false,
      rejectReason: 'Wrong amount in clause 4',
    });
  });

  it('expires at dateExpire (Unix seconds) by itself', async () => {
    // 1–2 s ahead (never under a second, so it is not already past when the request arrives).
    const { transactionID } = await sendOnline(sim, { dateExpire: Math.ceil(Date.now() / 1000) + 1 });
    const status = await waitFor(
      async () => {
        const s = (await vendorJson(sim, '/document/status', { transactionID })).json as { status: number };
        return s.status === 4 ? s : undefined;
      },
      'status 4',
      4000,
    );
    assert.equal(status.status, 4);
  });

  it('answers 443 to an unknown transaction or thread, and to a download before signing', async () => {
    assert.equal((await vendorJson(sim, '/document/status', { transactionID: '999' })).status, 443);
    assert.equal((await vendorJson(sim, '/document/download', { transactionID: '999' })).status, 443);
    assert.equal((await vendorJson(sim, '/document/withdraw', { threadID: '999' })).status, 443);
    const { transactionID, threadID } = await sendOnline(sim);
    assert.equal((await vendorJson(sim, '/document/download', { transactionID })).status, 443);
    assert.equal((await vendorJson(sim, '/document/status', { transactionID: threadID })).status, 443, 'a threadID is not a transactionID');
  });
});

describe('withdraw', () => {
  it('withdraws a pending thread (1), then says already withdrawn (3)', async () => {
    const created = await sendOnline(sim, { users: [{ identificationNumber: VALID_EGN }, { identificationNumber: OTHER_EGN }] });
    assert.deepEqual((await vendorJson(sim, '/document/withdraw', { threadID: created.threadID })).json, { status: 1 });
    for (const t of created.transactions) {
      assert.equal(((await vendorJson(sim, '/document/status', { transactionID: t.transactionID })).json as { status: number }).status, 6);
    }
    assert.deepEqual((await vendorJson(sim, '/document/withdraw', { threadID: created.threadID })).json, { status: 3 });
    await assert.rejects(sim.controls.sign(created.transactionID), /not pending/);
  });

  it('does not withdraw a thread that is already final (2)', async () => {
    const created = await sendOnline(sim);
    await sim.controls.sign(created.transactionID);
    assert.deepEqual((await vendorJson(sim, '/document/withdraw', { threadID: created.threadID })).json, { status: 2 });
    assert.equal(
      ((await vendorJson(sim, '/document/status', { transactionID: created.transactionID })).json as { status: number }).status,
      2,
    );
  });
});

describe('fault injection', () => {
  it('answers the injected code for the next N calls, then normally', async () => {
    const { transactionID } = await sendOnline(sim);
    sim.controls.failNext('/document/status', { status: 469, count: 2 });
    assert.equal((await vendorJson(sim, '/document/status', { transactionID })).status, 469);
    assert.equal((await vendorJson(sim, '/document/status', { transactionID })).status, 469);
    assert.equal((await vendorJson(sim, '/document/status', { transactionID })).status, 200);
    sim.controls.failNext('/vendor/document/status', { status: 468, body: { message: 'custom' } });
    const custom = await vendorJson(sim, '/document/status', { transactionID });
    assert.equal(custom.status, 468);
    assert.deepEqual(custom.json, { message: 'custom' });
    sim.controls.failNext('/document/doc/online', { status: 500 });
    assert.equal((await vendorMultipart(sim, '/document/doc/online', onlineData())).status, 500);
    assert.equal((await vendorMultipart(sim, '/document/doc/online', onlineData())).status, 200);
  });

  it('hangs for delayMs so a client timeout fires, then serves the next call at once', async () => {
    const { transactionID } = await sendOnline(sim);
    sim.controls.failNext('/document/status', { delayMs: 2000 });
    const started = Date.now();
    await assert.rejects(vendorJson(sim, '/document/status', { transactionID }, { signal: AbortSignal.timeout(150) }), {
      name: 'TimeoutError',
    });
    assert.ok(Date.now() - started < 1500);
    assert.equal((await vendorJson(sim, '/document/status', { transactionID })).status, 200);
  });

  it('refuses an unknown endpoint', () => {
    assert.throws(() => sim.controls.failNext('/document/nope', { status: 500 }), /unknown vendor endpoint/);
  });
});

describe('signed copy', () => {
  it('appends one deterministic signature line per signer, cumulatively within a thread', async () => {
    const content = samplePdf('multi');
    const created = await sendOnline(sim, { content, users: [{ identificationNumber: VALID_EGN }, { identificationNumber: OTHER_EGN }] });
    const [a, b] = created.transactions;
    assert.ok(a && b);
    await sim.controls.sign(b.transactionID);
    await sim.controls.sign(a.transactionID);
    const first = sim.controls.transaction(b.transactionID)?.signedDocument;
    const second = sim.controls.transaction(a.transactionID)?.signedDocument;
    assert.ok(first && second);
    const firstText = Buffer.from(first.content).toString('latin1');
    const secondText = Buffer.from(second.content).toString('latin1');
    assert.ok(firstText.startsWith(Buffer.from(content).toString('latin1')));
    assert.match(
      firstText,
      new RegExp(`%EvrotrustSimulatorSignature transactionID=${b.transactionID} threadID=${created.threadID} sha256=[0-9a-f]{64}\\n$`),
    );
    assert.ok(secondText.startsWith(firstText), "the second signer signs the first signer's copy");
    assert.equal(first.filename, 'contract.pdf');
  });
});

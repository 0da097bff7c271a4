// Tests of the Evrotrust client.
//
// Part 1 (no simulator): a tiny local HTTP server captures the raw requests, so these tests check
// the wire itself (signed bytes = sent bytes, multipart layout, checksum, publicKey) and every
// transport failure we can only provoke with a socket (refused, reset after sending, no answer).
// Part 2: the client against the project's sandbox simulator over real HTTP: every endpoint, every
// success and every documented HTTP code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { sha512Hex } from '../../src/lib/hash';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { unzipSync } from 'fflate';
import { authorizationHeader } from '../../src/evrotrust/auth';
import {
  asciiJson,
  createEvrotrustClient,
  matchTransactions,
  pickIdentifier,
  signInfoFor,
  sniffContentType,
  uploadFilename,
  type EvrotrustClient,
  type EvrotrustClientOptions,
  type EvrotrustLogger,
  type EvrotrustSigner,
  type SendOfflineInput,
  type SendOnlineInput,
} from '../../src/evrotrust/client';
import { decryptDownload } from '../../src/evrotrust/decrypt';
import {
  EVROTRUST_ENDPOINTS,
  EvrotrustError,
  EvrotrustHttpError,
  EvrotrustOtpError,
  EvrotrustRateLimitError,
  EvrotrustRequestError,
  errorForHttpStatus,
  isNotYetVisible,
  type EvrotrustEndpoint,
  type EvrotrustErrorCode,
} from '../../src/evrotrust/errors';
import { EVROTRUST_STATUS, isFinalStatus, isKnownStatus, statusName } from '../../src/evrotrust/statuses';
import { SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, startSimulator, type Simulator } from '../../simulator';

// ---------- fixtures ----------

const { publicKey: PUBLIC_KEY_PEM, privateKey: PRIVATE_KEY_PEM } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

const VENDOR = 'TestVendor42';
const API_KEY = 'test-api-key-1234';
// Valid ЕГН (checksums), a phone and an e-mail: the personal data that must never leak into logs or errors.
const EGN_A = '7505100003';
const EGN_B = '7505100019';
const PHONE = '+359888123456';
const EMAIL = 'ivan.petrov@example.bg';
const PII = [EGN_A, EGN_B, PHONE, EMAIL];

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n', 'latin1');
const inOneHour = (): Date => new Date(Date.now() + 3_600_000);

/** A logger that records everything, to check that no personal data is logged. */
function recordingLogger(): EvrotrustLogger & { lines: string[] } {
  const lines: string[] = [];
  const rec =
    (level: string) =>
    (message: string, fields: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
    };
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn') };
}

function assertNoPii(text: string): void {
  for (const value of PII) assert.ok(!text.includes(value), `personal data leaked: ${text}`);
}

/** Awaits a rejection and returns the EvrotrustError, checking it carries no personal data. */
async function failure(promise: Promise<unknown>): Promise<EvrotrustError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EvrotrustError, `expected an EvrotrustError, got ${String(error)}`);
    assertNoPii(error.message);
    assertNoPii(JSON.stringify(error));
    return error;
  }
  assert.fail('expected the call to fail');
}

function expectError(
  error: EvrotrustError,
  expected: {
    code: EvrotrustErrorCode;
    httpStatus?: number;
    retryable: boolean;
    outcomeUnknown: boolean;
    retryAfterMs?: number;
    endpoint?: EvrotrustEndpoint;
  },
): void {
  assert.equal(error.code, expected.code, `code (message: ${error.message})`);
  if ('httpStatus' in expected) assert.equal(error.httpStatus, expected.httpStatus, 'httpStatus');
  assert.equal(error.retryable, expected.retryable, 'retryable');
  assert.equal(error.outcomeUnknown, expected.outcomeUnknown, 'outcomeUnknown');
  assert.equal(error.retryAfterMs, expected.retryAfterMs, 'retryAfterMs');
  if (expected.endpoint) assert.equal(error.endpoint, expected.endpoint, 'endpoint');
}

// ---------- a capturing HTTP server ----------

interface Captured {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface FakeServer {
  url: string;
  requests: Captured[];
  close(): Promise<void>;
}

async function fakeServer(respond: (req: Captured, res: ServerResponse) => void): Promise<FakeServer> {
  const requests: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(captured);
      respond(captured, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/vendor`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  body: Buffer;
}

/** A strict multipart/form-data parser over the raw bytes (no normalization of any kind). */
function parseMultipart(raw: Buffer, contentType: string | undefined): Part[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '');
  assert.ok(boundary, 'multipart boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: Part[] = [];
  let at = raw.indexOf(delimiter);
  assert.equal(at, 0, 'body starts with the boundary');
  for (;;) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(delimiter, start);
    assert.ok(next > 0, 'closing boundary');
    const part = raw.subarray(start + 2, next - 2); // skip CRLF after the boundary and before the next
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const disposition = /content-disposition: form-data; name="([^"]*)"(?:; filename="([^"]*)")?/i.exec(head);
    assert.ok(disposition, `content-disposition in ${head}`);
    const type = /content-type: (.+)/i.exec(head)?.[1]?.trim();
    const entry: Part = { name: disposition[1] ?? '', body: part.subarray(split + 4) };
    if (disposition[2] !== undefined) entry.filename = disposition[2];
    if (type !== undefined) entry.contentType = type;
    parts.push(entry);
    at = next;
  }
  return parts;
}

function clientFor(baseUrl: string, extra: Partial<EvrotrustClientOptions> = {}): EvrotrustClient {
  return createEvrotrustClient({ baseUrl, vendorNumber: VENDOR, apiKey: API_KEY, publicKeyPem: PUBLIC_KEY_PEM, ...extra });
}

// =====================================================================================
// Part 1: pure parts and the wire, against a local capturing server
// =====================================================================================

describe('statuses', () => {
  it('names every documented code and tolerates unknown ones', () => {
    assert.equal(statusName(1), 'pending');
    assert.equal(statusName(2), 'signed');
    assert.equal(statusName(7), 'undeliverable');
    assert.equal(statusName(5), 'failed');
    assert.equal(statusName(8), 'faceRecognitionFailed');
    assert.equal(statusName(99), 'onHold');
    assert.equal(statusName(9), 'unknown');
    assert.equal(statusName(-1), 'unknown');
    assert.equal(isKnownStatus(99), true);
    assert.equal(isKnownStatus(8), true);
    assert.equal(isKnownStatus(9), false);
  });

  it('final: 2 (once not processing) to 8; never 1, 99 or unknown codes', () => {
    assert.equal(isFinalStatus(EVROTRUST_STATUS.signed, false), true);
    assert.equal(isFinalStatus(EVROTRUST_STATUS.signed, true), false);
    for (const code of [3, 4, 5, 6, 7, 8]) assert.equal(isFinalStatus(code), true, `code ${code}`);
    for (const code of [1, 99, 9, 0, 42]) assert.equal(isFinalStatus(code), false, `code ${code}`);
  });
});

describe('error mapping (errorForHttpStatus)', () => {
  const notRetryable: Array<[number, EvrotrustErrorCode]> = [
    [400, 'invalid-data'],
    [401, 'unauthorized'],
    [438, 'user-not-found'],
    [442, 'no-certificate'],
    [443, 'document-not-found'],
    [449, 'user-data-invalid'],
    [450, 'file-too-large'],
    [454, 'wrong-coverage'],
    [457, 'unsupported-file-type'],
  ];
  for (const [status, code] of notRetryable) {
    it(`${status} → ${code}, not retryable, outcome known, on every endpoint`, () => {
      for (const endpoint of EVROTRUST_ENDPOINTS) {
        const e = errorForHttpStatus(endpoint, status);
        assert.ok(e instanceof EvrotrustHttpError);
        expectError(e, { code, httpStatus: status, retryable: false, outcomeUnknown: false, endpoint });
      }
    });
  }

  it('432 / 448 → EvrotrustOtpError with codes a caller can show', () => {
    const wrong = errorForHttpStatus('/document/doc/offline/activate', 432, { transactionID: 'tx1' });
    assert.ok(wrong instanceof EvrotrustOtpError);
    expectError(wrong, { code: 'wrong-activation-code', httpStatus: 432, retryable: false, outcomeUnknown: false });
    assert.equal(wrong.transactionID, 'tx1');
    const expired = errorForHttpStatus('/document/doc/offline/activate', 448);
    assert.ok(expired instanceof EvrotrustOtpError);
    expectError(expired, { code: 'activation-code-expired', httpStatus: 448, retryable: false, outcomeUnknown: false });
  });

  it('469 → retryable after 60 s, on reads and creates alike (nothing was done)', () => {
    for (const endpoint of EVROTRUST_ENDPOINTS) {
      const e = errorForHttpStatus(endpoint, 469);
      assert.ok(e instanceof EvrotrustRateLimitError);
      expectError(e, { code: 'try-again-later', httpStatus: 469, retryable: true, outcomeUnknown: false, retryAfterMs: 60_000 });
    }
    // A Retry-After header, should Evrotrust send one, is more precise than the documented 60 s.
    assert.equal(errorForHttpStatus('/document/status', 469, {}, '120').retryAfterMs, 120_000);
    assert.equal(errorForHttpStatus('/document/status', 469, {}, 'garbage').retryAfterMs, 60_000);
  });

  it('468 and undocumented 4xx → unknown-provider-error: not retryable; outcome unknown only on creates', () => {
    for (const status of [468, 404, 429]) {
      expectError(errorForHttpStatus('/document/status', status), {
        code: 'unknown-provider-error',
        httpStatus: status,
        retryable: false,
        outcomeUnknown: false,
      });
      expectError(errorForHttpStatus('/document/doc/online', status), {
        code: 'unknown-provider-error',
        httpStatus: status,
        retryable: false,
        outcomeUnknown: true,
      });
      expectError(errorForHttpStatus('/document/doc/offline', status), {
        code: 'unknown-provider-error',
        httpStatus: status,
        retryable: false,
        outcomeUnknown: true,
      });
    }
  });

  it('5xx → retryable on reads, outcome unknown and never retried on creates', () => {
    for (const endpoint of ['/user/check/extended', '/document/status', '/document/download'] as const) {
      expectError(errorForHttpStatus(endpoint, 500), { code: 'server-error', httpStatus: 500, retryable: true, outcomeUnknown: false });
      expectError(errorForHttpStatus(endpoint, 503), { code: 'server-error', httpStatus: 503, retryable: true, outcomeUnknown: false });
    }
    for (const endpoint of ['/document/doc/online', '/document/doc/offline'] as const) {
      expectError(errorForHttpStatus(endpoint, 502), { code: 'server-error', httpStatus: 502, retryable: false, outcomeUnknown: true });
    }
    // activate: a repeat after a success could only say "wrong code"; withdraw / resend are safe to repeat.
    expectError(errorForHttpStatus('/document/doc/offline/activate', 500), {
      code: 'server-error',
      httpStatus: 500,
      retryable: false,
      outcomeUnknown: true,
    });
    expectError(errorForHttpStatus('/document/withdraw', 500), {
      code: 'server-error',
      httpStatus: 500,
      retryable: true,
      outcomeUnknown: true,
    });
    expectError(errorForHttpStatus('/document/doc/offline/activate/resend', 500), {
      code: 'server-error',
      httpStatus: 500,
      retryable: true,
      outcomeUnknown: true,
    });
  });

  it('isNotYetVisible: 443 on status, 443/438 on download; nothing else', () => {
    assert.equal(isNotYetVisible(errorForHttpStatus('/document/status', 443, { transactionID: 't' })), true);
    assert.equal(isNotYetVisible(errorForHttpStatus('/document/download', 443)), true);
    assert.equal(isNotYetVisible(errorForHttpStatus('/document/download', 438)), true);
    assert.equal(isNotYetVisible(errorForHttpStatus('/document/status', 438)), false);
    assert.equal(isNotYetVisible(errorForHttpStatus('/document/withdraw', 443)), false);
    assert.equal(isNotYetVisible(errorForHttpStatus('/document/status', 500)), false);
    assert.equal(isNotYetVisible(new Error('x')), false);
    const e = errorForHttpStatus('/document/status', 443, { transactionID: 't' });
    assert.deepEqual(
      [e.code, e.httpStatus, e.retryable, e.transactionID],
      ['document-not-found', 443, false, 't'],
      'retry semantics unchanged',
    );
  });

  it('survives JSON and structuredClone with every decision field (for Temporal failure details)', () => {
    const e = errorForHttpStatus('/document/status', 469, { transactionID: 'tx-9' });
    const viaJson = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    assert.deepEqual(viaJson, {
      name: 'EvrotrustRateLimitError',
      message: e.message,
      code: 'try-again-later',
      endpoint: '/document/status',
      httpStatus: 469,
      retryable: true,
      retryAfterMs: 60_000,
      outcomeUnknown: false,
      transactionID: 'tx-9',
    });
    assert.deepEqual(structuredClone(e.toJSON()), viaJson);
  });
});

describe('request helpers', () => {
  it('signInfoFor: PDF → pdfType, XML → xmlType, anything else → otherType; always the algorithm', () => {
    assert.deepEqual(signInfoFor({ filename: 'a.PDF' }), { type: 'PDF2', algorithm: 'SHA256' });
    assert.deepEqual(signInfoFor({ filename: 'a.xml' }), { type: 'XML1', algorithm: 'SHA256' });
    assert.deepEqual(signInfoFor({ filename: 'a', contentType: 'text/xml; charset=utf-8' }), { type: 'XML1', algorithm: 'SHA256' });
    assert.deepEqual(signInfoFor({ filename: 'a.docx' }), { type: 'CAD1', algorithm: 'SHA256' });
    assert.deepEqual(signInfoFor({ filename: 'a.pdf' }, { pdfType: 'PDF1' }), { type: 'PDF1', algorithm: 'SHA256' });
    assert.deepEqual(signInfoFor({ filename: 'scan' }, { otherType: 'CAD2' }), { type: 'CAD2', algorithm: 'SHA256' });
    assert.equal(sniffContentType(Buffer.from('%PDF-1.7 ...')), 'application/pdf');
    assert.equal(sniffContentType(Buffer.from('<?xml version="1.0"?><a/>')), 'application/xml');
    assert.equal(sniffContentType(Buffer.from('plain')), undefined);
  });

  it('pickIdentifier: ЕГН (with country when given) else phone else e-mail, exactly one', () => {
    assert.deepEqual(pickIdentifier({ identificationNumber: EGN_A, country: 'bg', phone: PHONE, email: EMAIL }), {
      identificationNumber: EGN_A,
      country: 'BG',
    });
    assert.deepEqual(pickIdentifier({ identificationNumber: EGN_A, phone: PHONE }), { identificationNumber: EGN_A });
    assert.deepEqual(pickIdentifier({ phone: PHONE, email: EMAIL }), { phone: PHONE });
    assert.deepEqual(pickIdentifier({ email: EMAIL, country: 'BG' }), { email: EMAIL }, 'country only qualifies an identificationNumber');
  });

  it('asciiJson: equivalent JSON in ASCII bytes, \\uXXXX for everything else (astral as surrogate pairs)', () => {
    const value = { d: 'Договор № 5 — 😀', n: 1 };
    const text = asciiJson(value);
    assert.ok(/^[\x00-\x7f]*$/.test(text));
    assert.deepEqual(JSON.parse(text), value);
    assert.ok(text.includes('\\u0414') && text.includes('\\ud83d\\ude00'));
    assert.equal(asciiJson({ a: 'plain' }), JSON.stringify({ a: 'plain' }), 'ASCII input is unchanged');
  });

  it('uploadFilename: ASCII, safe characters, at most 100 characters, extension kept', () => {
    assert.equal(uploadFilename('Договор за наем №5.pdf'), 'Dogovor_za_naem_No5.pdf');
    assert.equal(uploadFilename('résumé "final".PDF'), 'resume_final.PDF');
    assert.equal(uploadFilename('C:\\Users\\x\\..\\a;b.docx'), 'a_b.docx');
    assert.equal(uploadFilename('../../etc/passwd'), 'passwd');
    assert.equal(uploadFilename('.pdf'), 'document.pdf');
    assert.equal(uploadFilename('😀😀'), 'document');
    const long = uploadFilename(`${'я'.repeat(300)}.xlsx`);
    assert.equal(long.length, 100);
    assert.ok(long.endsWith('.xlsx'));
    assert.match(long, /^[A-Za-z0-9._-]+$/);
  });
});

describe('matchTransactions', () => {
  it('maps in order by default', () => {
    assert.deepEqual(matchTransactions([{ phone: PHONE }, { email: EMAIL }], [{}, {}]), [0, 1]);
  });
  it('follows echoed identificationNumbers when Evrotrust reorders them', () => {
    assert.deepEqual(
      matchTransactions(
        [{ identificationNumber: EGN_A }, { identificationNumber: EGN_B }],
        [{ identificationNumber: EGN_B }, { identificationNumber: EGN_A }],
      ),
      [1, 0],
    );
  });
  it('refuses a count mismatch or an inconsistent echo', () => {
    assert.equal(matchTransactions([{ phone: PHONE }], [{}, {}]), undefined);
    assert.equal(matchTransactions([{ identificationNumber: EGN_A }], [{ identificationNumber: EGN_B }]), undefined);
  });
});

describe('client on the wire (local capturing server)', () => {
  it('JSON calls: the Authorization header is the HMAC of the exact bytes received, vendorNumber in the body', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, { isRegistered: true, isReadyToSign: true }));
    try {
      const client = clientFor(server.url);
      // Non-ASCII on purpose: it goes out as \uXXXX escapes, and the header covers the exact bytes sent.
      await client.checkUser({ email: 'иван@пример.bg' });
      await client.checkUser({ identificationNumber: EGN_A, email: 'иван@пример.bg' });
      const [req, second] = server.requests as [Captured, Captured];
      assert.equal(req.url, '/vendor/user/check/extended');
      assert.equal(req.headers.authorization, authorizationHeader(API_KEY, req.body));
      assert.match(req.headers.authorization ?? '', /^[0-9a-f]{64}$/, 'no scheme word');
      assert.match(req.headers['content-type'] ?? '', /^application\/json/);
      assert.ok(
        [...req.body].every((b) => b < 0x80),
        'ASCII bytes only',
      );
      assert.ok(req.body.toString('latin1').includes('\\u0438\\u0432\\u0430\\u043d@'), 'Cyrillic as \\uXXXX');
      assert.deepEqual(JSON.parse(req.body.toString('utf8')), { vendorNumber: VENDOR, user: { email: 'иван@пример.bg' } });
      // One identifier per user, the same pick as a send: the ЕГН wins.
      assert.deepEqual(JSON.parse(second.body.toString('utf8')), { vendorNumber: VENDOR, user: { identificationNumber: EGN_A } });
    } finally {
      await server.close();
    }
  });

  it('multipart: the header signs the `data` field bytes exactly; checksum, publicKey and file are right', async () => {
    const server = await fakeServer((_req, res) =>
      json(res, 200, { threadID: 'th-1', transactions: [{ transactionID: 'tx-1' }, { transactionID: 'tx-2' }] }),
    );
    try {
      const client = clientFor(server.url);
      const expire = inOneHour();
      const result = await client.sendOnline({
        // A line break and Cyrillic in the description: JSON escapes both (\n, \uXXXX).
        document: {
          filename: 'договор.pdf',
          content: PDF,
          description: 'Договор № 5\nред 2 "цитат"',
          dateExpire: expire,
          coverage: 500,
          preview: false,
        },
        signers: [
          { identificationNumber: EGN_A, country: 'BG' },
          { phone: PHONE, email: EMAIL },
        ],
        urlCallback: 'http://127.0.0.1:3000/evrotrust/callback/t/abc',
        signInfo: { type: 'PDF1', algorithm: 'SHA256' },
      });
      assert.deepEqual(result, {
        threadID: 'th-1',
        transactions: [
          { identificationNumber: EGN_A, country: 'BG', transactionID: 'tx-1' },
          { phone: PHONE, email: EMAIL, transactionID: 'tx-2' },
        ],
      });

      const req = server.requests[0]!;
      assert.equal(req.url, '/vendor/document/doc/online');
      const parts = parseMultipart(req.body, req.headers['content-type']);
      assert.deepEqual(
        parts.map((p) => p.name),
        ['data', 'document'],
      );
      const [data, file] = parts as [Part, Part];
      assert.equal(data.filename, undefined, 'data is a plain field, not a file');
      assert.equal(req.headers.authorization, authorizationHeader(API_KEY, data.body));
      assert.ok(file.body.equals(PDF), 'the file bytes arrive unchanged');
      assert.equal(file.contentType, 'application/pdf');
      assert.equal(file.filename, 'dogovor.pdf', 'the file name is sanitized to ASCII');
      assert.ok(
        [...data.body].every((b) => b < 0x80),
        'the data field is ASCII: non-ASCII goes as \\uXXXX',
      );

      const body = JSON.parse(data.body.toString('utf8')) as Record<string, unknown>;
      assert.deepEqual(body, {
        vendorNumber: VENDOR,
        publicKey: Buffer.from(PUBLIC_KEY_PEM, 'utf8').toString('base64'),
        urlCallback: 'http://127.0.0.1:3000/evrotrust/callback/t/abc',
        document: {
          description: 'Договор № 5\nред 2 "цитат"',
          dateExpire: Math.floor(expire.getTime() / 1000),
          coverage: 500,
          preview: 0,
          checksumDocument: sha512Hex(file.body),
          certificateType: 1,
        },
        signInfo: { type: 'PDF1', algorithm: 'SHA256' },
        // Exactly one identifier per users[] item: the phone wins over the e-mail.
        users: [{ identificationNumber: EGN_A, country: 'BG' }, { phone: PHONE }],
      });
      assert.equal(Buffer.from(body.publicKey as string, 'base64').toString('utf8'), PUBLIC_KEY_PEM);
    } finally {
      await server.close();
    }
  });

  it('offline, activate, resend, status, download, withdraw: right paths, bodies and signatures', async () => {
    const zip = Buffer.from('PK\x03\x04rest-of-zip', 'latin1');
    const server = await fakeServer((req, res) => {
      switch (req.url) {
        case '/vendor/document/doc/offline':
          return json(res, 200, { transactionID: 777 });
        case '/vendor/document/doc/offline/activate':
        case '/vendor/document/doc/offline/activate/resend':
          res.writeHead(204);
          return res.end();
        case '/vendor/document/status':
          return json(res, 200, { status: 3, isProcessing: 0, rejectReason: 'не съм съгласен' });
        case '/vendor/document/download':
          res.writeHead(200, { 'content-type': 'application/zip' });
          return res.end(zip);
        case '/vendor/document/withdraw':
          return json(res, 200, { status: 3 });
        default:
          return json(res, 404, {});
      }
    });
    try {
      const client = clientFor(server.url);
      const offline = await client.sendOffline({
        document: { filename: 'a.pdf', content: PDF, description: 'OTP' },
        signer: { identificationNumber: EGN_A, phone: PHONE },
        urlCallback: 'http://127.0.0.1:3000/cb',
      });
      assert.deepEqual(offline, { transactionID: '777' }, 'an integer id is normalized to a string');
      await client.activateOffline('777', '123456');
      await client.resendOfflineCode('777', PHONE);
      assert.deepEqual(await client.status('777'), {
        status: 3,
        statusName: 'rejected',
        isProcessing: false,
        isFinal: true,
        rejectReason: 'не съм съгласен',
      });
      assert.ok(Buffer.from(await client.download('777')).equals(zip));
      assert.deepEqual(await client.withdraw('th-5'), { status: 'already-withdrawn', code: 3 });

      const [off, act, resend, status, download, withdraw] = server.requests as [
        Captured,
        Captured,
        Captured,
        Captured,
        Captured,
        Captured,
      ];
      const offData = parseMultipart(off.body, off.headers['content-type'])[0]!;
      assert.equal(off.headers.authorization, authorizationHeader(API_KEY, offData.body));
      assert.deepEqual(JSON.parse(offData.body.toString('utf8')), {
        vendorNumber: VENDOR,
        publicKey: Buffer.from(PUBLIC_KEY_PEM).toString('base64'),
        urlCallback: 'http://127.0.0.1:3000/cb',
        user: { identificationNumber: EGN_A, phone: PHONE },
        // The defaults: coverage 20000 and certificateType 1 (as production integrations send), PDF2 for a PDF.
        document: { description: 'OTP', coverage: 20000, checksumDocument: sha512Hex(PDF), certificateType: 1 },
        signInfo: { type: 'PDF2', algorithm: 'SHA256' },
      });
      const expectBodies: Array<[Captured, unknown]> = [
        [act, { vendorNumber: VENDOR, transactionID: '777', activationCode: '123456' }],
        [resend, { vendorNumber: VENDOR, transactionID: '777', phone: PHONE }],
        [status, { vendorNumber: VENDOR, transactionID: '777' }],
        [download, { vendorNumber: VENDOR, transactionID: '777' }],
        [withdraw, { vendorNumber: VENDOR, threadID: 'th-5' }],
      ];
      for (const [req, body] of expectBodies) {
        assert.deepEqual(JSON.parse(req.body.toString('utf8')), body, req.url);
        assert.equal(req.headers.authorization, authorizationHeader(API_KEY, req.body), req.url);
      }
    } finally {
      await server.close();
    }
  });

  it('user check: 0/1 flags become booleans; absent optional flags stay absent', async () => {
    const server = await fakeServer((_req, res) =>
      json(res, 200, {
        isRegistered: 1,
        isIdentified: 0,
        isRejected: 0,
        rejectReason: null,
        isSupervised: false,
        isReadyToSign: 0,
        hasConfirmedPhone: 1,
      }),
    );
    try {
      assert.deepEqual(await clientFor(server.url).checkUser({ phone: PHONE }), {
        isRegistered: true,
        isIdentified: false,
        isRejected: false,
        rejectReason: null,
        rejectReasonCode: null,
        isSupervised: false,
        isReadyToSign: false,
        isReadyToSignDerived: false,
        hasConfirmedPhone: true,
      });
    } finally {
      await server.close();
    }
  });

  it('a malformed answer names the field, carries no personal data, and is outcome-unknown on a create', async () => {
    const logger = recordingLogger();
    let answer: unknown = { threadID: 'th-1', transactions: [{ transactionID: null, identificationNumber: EGN_A }] };
    const server = await fakeServer((_req, res) => json(res, 200, answer));
    try {
      const client = clientFor(server.url, { logger });
      const send = (): Promise<unknown> =>
        client.sendOnline({
          document: { filename: 'a.pdf', content: PDF, description: 'x', dateExpire: inOneHour() },
          signers: [{ identificationNumber: EGN_A }],
          urlCallback: 'http://127.0.0.1:3000/cb',
        });
      const e1 = await failure(send());
      expectError(e1, { code: 'malformed-response', httpStatus: 200, retryable: false, outcomeUnknown: true });
      assert.equal(e1.field, 'transactions[0].transactionID');

      // One entry for two signers: the thread exists, so the error names it (the caller can withdraw it).
      answer = { threadID: 'th-2', transactions: [{ transactionID: 'tx-1' }] };
      const e2 = await failure(
        client.sendOnline({
          document: { filename: 'a.pdf', content: PDF, description: 'x', dateExpire: inOneHour() },
          signers: [{ identificationNumber: EGN_A }, { identificationNumber: EGN_B }],
          urlCallback: 'http://127.0.0.1:3000/cb',
        }),
      );
      expectError(e2, { code: 'malformed-response', httpStatus: 200, retryable: false, outcomeUnknown: true });
      assert.equal(e2.field, 'transactions');
      assert.equal(e2.threadID, 'th-2');

      answer = 'not json at all';
      const e3 = await failure(client.status('tx-1'));
      expectError(e3, { code: 'malformed-response', httpStatus: 200, retryable: false, outcomeUnknown: false });
      assert.equal(e3.field, '(root)', 'a JSON string is valid JSON but not an object');

      answer = { status: 2, isProcessing: 'no' };
      const e4 = await failure(client.status('tx-1'));
      assert.equal(e4.field, 'isProcessing');

      answer = { status: 4 };
      const e5 = await failure(client.withdraw('th-1'));
      assert.equal(e5.field, 'status');

      assertNoPii(logger.lines.join('\n'));
      assert.ok(
        logger.lines.some((l) => l.includes('"field":"transactions[0].transactionID"')),
        'the failure is logged with its field',
      );
    } finally {
      await server.close();
    }
  });

  it('a body that is not JSON, or a download that is not a ZIP, is malformed-response', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy error</html>');
    });
    try {
      const client = clientFor(server.url);
      const e1 = await failure(client.status('tx-1'));
      expectError(e1, { code: 'malformed-response', httpStatus: 200, retryable: false, outcomeUnknown: false });
      assert.equal(e1.field, '(body)');
      const e2 = await failure(client.download('tx-1'));
      expectError(e2, { code: 'malformed-response', httpStatus: 200, retryable: false, outcomeUnknown: false });
    } finally {
      await server.close();
    }
  });

  it('an unknown status code is tolerated, not final, and logged', async () => {
    const logger = recordingLogger();
    const server = await fakeServer((_req, res) => json(res, 200, { status: '9', isProcessing: false }));
    try {
      const result = await clientFor(server.url, { logger }).status('tx-9');
      assert.deepEqual(result, { status: 9, statusName: 'unknown', isProcessing: false, isFinal: false, rejectReason: null });
      assert.ok(logger.lines.some((l) => l.startsWith('warn evrotrust unknown status code') && l.includes('"transactionID":"tx-9"')));
    } finally {
      await server.close();
    }
  });

  it('Evrotrust reordering the echoed signers does not swap transactions', async () => {
    const server = await fakeServer((_req, res) =>
      json(res, 200, {
        threadID: 't',
        transactions: [
          { transactionID: 'for-B', identificationNumber: EGN_B },
          { transactionID: 'for-A', identificationNumber: EGN_A },
        ],
      }),
    );
    try {
      const r = await clientFor(server.url).sendOnline({
        document: { filename: 'a.pdf', content: PDF, description: 'x', dateExpire: inOneHour() },
        signers: [
          { identificationNumber: EGN_A, ref: 'a' },
          { identificationNumber: EGN_B, ref: 'b' },
        ],
        urlCallback: 'http://127.0.0.1:3000/cb',
      });
      assert.deepEqual(
        r.transactions.map((t) => [t.ref, t.transactionID]),
        [
          ['a', 'for-A'],
          ['b', 'for-B'],
        ],
        'extra caller fields are kept',
      );
    } finally {
      await server.close();
    }
  });

  it('refuses bad input before sending anything', async () => {
    const server = await fakeServer((_req, res) => json(res, 500, {}));
    try {
      const client = clientFor(server.url);
      const base = { document: { filename: 'a.pdf', content: PDF, description: 'x', dateExpire: inOneHour() }, urlCallback: 'http://x/cb' };
      const noSigners = await failure(client.sendOnline({ ...base, signers: [] }));
      expectError(noSigners, { code: 'invalid-request', retryable: false, outcomeUnknown: false });
      assert.equal(noSigners.field, 'signers');
      const anonymous = await failure(client.sendOnline({ ...base, signers: [{ country: 'BG' }] }));
      assert.equal(anonymous.field, 'signers[0]');
      const millis = await failure(
        client.sendOnline({ ...base, document: { ...base.document, dateExpire: Date.now() + 60_000 }, signers: [{ phone: PHONE }] }),
      );
      assert.equal(millis.field, 'document.dateExpire');
      const noCallback = await failure(client.sendOnline({ ...base, urlCallback: 'not a url', signers: [{ phone: PHONE }] }));
      assert.equal(noCallback.field, 'urlCallback');
      const emptyFile = await failure(
        client.sendOffline({
          document: { filename: 'a.pdf', content: new Uint8Array(0), description: 'x' },
          signer: { identificationNumber: EGN_A, phone: PHONE },
          urlCallback: 'http://x/cb',
        }),
      );
      assert.equal(emptyFile.field, 'document.content');
      expectError(await failure(client.status('')), { code: 'invalid-request', retryable: false, outcomeUnknown: false });
      expectError(await failure(client.checkUser({})), { code: 'invalid-request', retryable: false, outcomeUnknown: false });
      assert.equal(server.requests.length, 0, 'nothing reached the server');
    } finally {
      await server.close();
    }
  });

  it('refuses a configuration without a valid public key PEM at creation', () => {
    assert.throws(
      () => createEvrotrustClient({ baseUrl: 'http://127.0.0.1:1/vendor', vendorNumber: VENDOR, apiKey: API_KEY, publicKeyPem: 'nope' }),
      TypeError,
    );
    assert.throws(
      () =>
        createEvrotrustClient({
          baseUrl: 'http://127.0.0.1:1/vendor',
          vendorNumber: VENDOR,
          apiKey: API_KEY,
          publicKeyPem: PRIVATE_KEY_PEM,
        }),
      TypeError,
    );
  });
});

describe('transport failures (local sockets)', () => {
  const onlineInput = {
    document: { filename: 'a.pdf', content: PDF, description: 'x', dateExpire: inOneHour() },
    signers: [{ identificationNumber: EGN_A, phone: PHONE }],
    urlCallback: 'http://127.0.0.1:3000/cb',
  };

  it('connection refused: nothing was sent, so even a create is retryable', async () => {
    const server = await fakeServer(() => undefined);
    const url = server.url;
    await server.close(); // the port is now closed
    const client = clientFor(url);
    expectError(await failure(client.sendOnline(onlineInput)), {
      code: 'network-error',
      retryable: true,
      outcomeUnknown: false,
      endpoint: '/document/doc/online',
    });
    expectError(await failure(client.status('tx')), { code: 'network-error', retryable: true, outcomeUnknown: false });
  });

  it('connection reset after the request was received: reads retryable, creates outcome-unknown', async () => {
    const server = await fakeServer((_req, res) => res.socket?.destroy());
    try {
      const client = clientFor(server.url);
      expectError(await failure(client.sendOnline(onlineInput)), { code: 'network-error', retryable: false, outcomeUnknown: true });
      expectError(await failure(client.sendOffline({ ...onlineInput, signer: { identificationNumber: EGN_A, phone: PHONE } })), {
        code: 'network-error',
        retryable: false,
        outcomeUnknown: true,
      });
      expectError(await failure(client.status('tx')), { code: 'network-error', retryable: true, outcomeUnknown: false });
      expectError(await failure(client.activateOffline('tx', '1')), { code: 'network-error', retryable: false, outcomeUnknown: true });
      expectError(await failure(client.withdraw('th')), { code: 'network-error', retryable: true, outcomeUnknown: true });
    } finally {
      await server.close();
    }
  });

  it('no answer within the timeout: reads retryable, creates outcome-unknown; per-call override wins', async () => {
    const server = await fakeServer(() => undefined); // never answers
    try {
      const client = clientFor(server.url, { timeoutMs: 100, transferTimeoutMs: 150 });
      const t0 = performance.now();
      expectError(await failure(client.status('tx')), { code: 'timeout', retryable: true, outcomeUnknown: false });
      expectError(await failure(client.checkUser({ phone: PHONE })), { code: 'timeout', retryable: true, outcomeUnknown: false });
      expectError(await failure(client.download('tx')), { code: 'timeout', retryable: true, outcomeUnknown: false });
      expectError(await failure(client.sendOnline(onlineInput)), { code: 'timeout', retryable: false, outcomeUnknown: true });
      expectError(await failure(client.status('tx', { timeoutMs: 50 })), { code: 'timeout', retryable: true, outcomeUnknown: false });
      assert.ok(performance.now() - t0 < 3_000, 'timeouts fire promptly');
    } finally {
      await server.close();
    }
  });

  it('a timeout while the body is still arriving counts too', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.write('PK\x03\x04'); // and never finishes
    });
    try {
      const e = await failure(clientFor(server.url, { transferTimeoutMs: 150 }).download('tx'));
      expectError(e, { code: 'timeout', retryable: true, outcomeUnknown: false });
    } finally {
      await server.close();
    }
  });

  it("the caller's AbortSignal cancels the call (aborted, outcome unknown on a create)", async () => {
    const server = await fakeServer(() => undefined);
    try {
      const client = clientFor(server.url);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
      expectError(await failure(client.sendOnline(onlineInput, { signal: controller.signal })), {
        code: 'aborted',
        retryable: false,
        outcomeUnknown: true,
      });
      expectError(await failure(client.status('tx', { signal: AbortSignal.abort() })), {
        code: 'aborted',
        retryable: true,
        outcomeUnknown: false,
      });
    } finally {
      await server.close();
    }
  });

  it('HTTP error answers: the body is not read into the error, the Retry-After header is honoured', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(469, { 'content-type': 'application/json', 'retry-after': '5' });
      res.end(JSON.stringify({ message: `user ${EGN_A} is busy` }));
    });
    try {
      const logger = recordingLogger();
      const e = await failure(clientFor(server.url, { logger }).checkUser({ identificationNumber: EGN_A }));
      assert.ok(e instanceof EvrotrustRateLimitError);
      expectError(e, { code: 'try-again-later', httpStatus: 469, retryable: true, outcomeUnknown: false, retryAfterMs: 5_000 });
      assertNoPii(logger.lines.join('\n'));
    } finally {
      await server.close();
    }
  });
});

// =====================================================================================
// Part 2: against the sandbox simulator over real HTTP
// =====================================================================================

describe('client against the sandbox simulator', () => {
  const MAX_FILE_BYTES = 64 * 1024;
  const logger = recordingLogger();
  let sim: Simulator;
  let shortOtpSim: Simulator;
  let callbackSink: FakeServer;
  let client: EvrotrustClient;
  let urlCallback: string;

  const online = (signers: EvrotrustSigner[], document: Partial<SendOnlineInput['document']> = {}): SendOnlineInput => ({
    document: { filename: 'contract.pdf', content: PDF, description: 'Договор за услуга', dateExpire: inOneHour(), ...document },
    signers,
    urlCallback,
  });
  const offline = (signer: Partial<SendOfflineInput['signer']> = {}): SendOfflineInput => ({
    document: { filename: 'contract.pdf', content: PDF, description: 'OTP договор' },
    signer: { identificationNumber: EGN_A, phone: PHONE, ...signer },
    urlCallback,
  });

  /** Polls the simulator until the signed transaction stops processing. */
  async function waitNotProcessing(transactionID: string): Promise<void> {
    for (let i = 0; i < 250; i++) {
      if (!(await client.status(transactionID)).isProcessing) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('still processing');
  }

  before(async () => {
    callbackSink = await fakeServer((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    urlCallback = callbackSink.url.replace(/\/vendor$/, '/evrotrust/callback');
    // processingMs long enough that "signed but still processing" is observable on a loaded machine.
    // statusNotFoundMs 0: the 443-after-create window has its own test below.
    sim = await startSimulator({
      port: 0,
      processingMs: 400,
      maxFileBytes: MAX_FILE_BYTES,
      callbackTimeoutMs: 1_000,
      callbackAttempts: 1,
      statusNotFoundMs: 0,
    });
    shortOtpSim = await startSimulator({ port: 0, otpCodeTtlMs: 1, callbackAttempts: 1, statusNotFoundMs: 0 });
    client = createEvrotrustClient({
      baseUrl: sim.vendorBaseUrl,
      vendorNumber: SANDBOX_VENDOR_NUMBER,
      apiKey: SANDBOX_API_KEY,
      publicKeyPem: PUBLIC_KEY_PEM,
      timeoutMs: 3_000,
      logger,
    });
  });

  after(async () => {
    let t = performance.now();
    await sim.close();
    console.log('sim', performance.now() - t);
    t = performance.now();
    await shortOtpSim.close();
    console.log('short', performance.now() - t);
    t = performance.now();
    await callbackSink.close();
    console.log('sink', performance.now() - t);
    // Every call of this suite logged through `logger`: none of it may carry personal data.
    assertNoPii(logger.lines.join('\n'));
  });

  describe('/user/check/extended', () => {
    it('200: a ready user, 0/1 flags as booleans, the integer rejectReason kept as text and code', async () => {
      assert.deepEqual(await client.checkUser({ identificationNumber: EGN_A, country: 'BG' }), {
        isRegistered: true,
        isIdentified: true,
        isRejected: false,
        rejectReason: '0',
        rejectReasonCode: 0,
        isSupervised: false,
        isReadyToSign: true,
        isReadyToSignDerived: false,
        hasConfirmedPhone: true,
        hasConfirmedEmail: true,
      });
      sim.controls.setUser('7505100024', { isReadyToSign: false });
      assert.equal((await client.checkUser({ identificationNumber: '7505100024' })).isReadyToSign, false);
    });

    it('an unknown user: 200 with isRegistered 0 (not 438) → not registered, not ready', async () => {
      sim.controls.setUser('7505100030', { isRegistered: false });
      const r = await client.checkUser({ identificationNumber: '7505100030' });
      assert.equal(r.isRegistered, false);
      assert.equal(r.isReadyToSign, false);
    });

    it('449 user data not valid → user-data-invalid, not retryable', async () => {
      expectError(await failure(client.checkUser({ identificationNumber: '1234567890' })), {
        code: 'user-data-invalid',
        httpStatus: 449,
        retryable: false,
        outcomeUnknown: false,
      });
    });

    it('401: wrong API key (HMAC) or wrong vendor number → unauthorized, not retryable', async () => {
      for (const wrong of [{ apiKey: 'not-the-key' }, { vendorNumber: 'SomeoneElse' }]) {
        const other = createEvrotrustClient({
          baseUrl: sim.vendorBaseUrl,
          vendorNumber: SANDBOX_VENDOR_NUMBER,
          apiKey: SANDBOX_API_KEY,
          publicKeyPem: PUBLIC_KEY_PEM,
          ...wrong,
        });
        expectError(await failure(other.checkUser({ phone: PHONE })), {
          code: 'unauthorized',
          httpStatus: 401,
          retryable: false,
          outcomeUnknown: false,
        });
        expectError(await failure(other.status('whatever')), {
          code: 'unauthorized',
          httpStatus: 401,
          retryable: false,
          outcomeUnknown: false,
        });
      }
    });
  });

  describe('/document/doc/online, status, download, withdraw', () => {
    it('200: one thread, one transaction per signer in order; pending → signed → downloadable ZIP', async () => {
      const sent = await client.sendOnline(
        online([
          { identificationNumber: EGN_A, country: 'BG' },
          { phone: PHONE, email: EMAIL },
        ]),
      );
      assert.equal(sent.transactions.length, 2);
      const [a, b] = sent.transactions as [{ transactionID: string }, { transactionID: string }];
      assert.notEqual(a.transactionID, b.transactionID);
      // The simulator's own record proves which signer each transactionID belongs to.
      assert.deepEqual(sim.controls.transaction(a.transactionID)?.signer, { identificationNumber: EGN_A, country: 'BG' });
      // One identifier per users[] item: the phone was sent, the e-mail was not.
      assert.deepEqual(sim.controls.transaction(b.transactionID)?.signer, { phone: PHONE });
      assert.equal(sim.controls.transaction(a.transactionID)?.threadID, sent.threadID);

      assert.deepEqual(await client.status(a.transactionID), {
        status: 1,
        statusName: 'pending',
        isProcessing: false,
        isFinal: false,
        rejectReason: null,
      });

      await sim.controls.sign(a.transactionID);
      const justSigned = await client.status(a.transactionID);
      assert.equal(justSigned.status, 2);
      assert.equal(justSigned.isProcessing, true);
      assert.equal(justSigned.isFinal, false, 'signed but processing is not final yet');
      await waitNotProcessing(a.transactionID);
      assert.deepEqual(await client.status(a.transactionID), {
        status: 2,
        statusName: 'signed',
        isProcessing: false,
        isFinal: true,
        rejectReason: null,
      });

      const zip = await client.download(a.transactionID);
      assert.deepEqual(
        Object.keys(unzipSync(zip)).sort(),
        ['.enc', '.enc.filename', '.enc.iv', '.enc.key'].map((s) => `${a.transactionID}_OUT${s}`),
      );
      // Cross-check with the decryption module: the ZIP holds exactly the simulator's signed copy.
      const files = await decryptDownload(zip, PRIVATE_KEY_PEM);
      const signedCopy = sim.controls.transaction(a.transactionID)?.signedDocument;
      assert.ok(signedCopy);
      assert.equal(files.length, 1);
      assert.equal(files[0]?.filename, 'contract.pdf');
      assert.ok(Buffer.from(files[0]!.content).equals(Buffer.from(signedCopy.content)));

      // 443 for the other signer: nothing to download before signing.
      expectError(await failure(client.download(b.transactionID)), {
        code: 'document-not-found',
        httpStatus: 443,
        retryable: false,
        outcomeUnknown: false,
      });

      // Withdraw the thread: the pending transaction goes to 6, a second withdraw says "already".
      assert.deepEqual(await client.withdraw(sent.threadID), { status: 'withdrawn', code: 1 });
      assert.deepEqual(await client.status(b.transactionID), {
        status: 6,
        statusName: 'withdrawn',
        isProcessing: false,
        isFinal: true,
        rejectReason: null,
      });
      assert.deepEqual(await client.withdraw(sent.threadID), { status: 'already-withdrawn', code: 3 });
    });

    it('withdraw of a thread with nothing pending → not-withdrawn; unknown thread → 443', async () => {
      const sent = await client.sendOnline(online([{ email: EMAIL }]));
      await sim.controls.sign(sent.transactions[0]!.transactionID);
      assert.deepEqual(await client.withdraw(sent.threadID), { status: 'not-withdrawn', code: 2 });
      expectError(await failure(client.withdraw('no-such-thread')), {
        code: 'document-not-found',
        httpStatus: 443,
        retryable: false,
        outcomeUnknown: false,
        endpoint: '/document/withdraw',
      });
    });

    it('rejected (with the reason) and expired are final statuses', async () => {
      const sent = await client.sendOnline(online([{ identificationNumber: EGN_A }, { identificationNumber: EGN_B }]));
      const [a, b] = sent.transactions as [{ transactionID: string }, { transactionID: string }];
      await sim.controls.reject(a.transactionID, 'Грешна сума');
      assert.deepEqual(await client.status(a.transactionID), {
        status: 3,
        statusName: 'rejected',
        isProcessing: false,
        isFinal: true,
        rejectReason: 'Грешна сума',
      });
      await sim.controls.expire(b.transactionID);
      assert.deepEqual(await client.status(b.transactionID), {
        status: 4,
        statusName: 'expired',
        isProcessing: false,
        isFinal: true,
        rejectReason: null,
      });
    });

    it('status / download of an unknown transaction → 443 document-not-found', async () => {
      expectError(await failure(client.status('no-such-tx')), {
        code: 'document-not-found',
        httpStatus: 443,
        retryable: false,
        outcomeUnknown: false,
        endpoint: '/document/status',
      });
      expectError(await failure(client.download('no-such-tx')), {
        code: 'document-not-found',
        httpStatus: 443,
        retryable: false,
        outcomeUnknown: false,
        endpoint: '/document/download',
      });
    });

    const refusals: Array<[string, () => SendOnlineInput, EvrotrustErrorCode, number, () => void]> = [
      [
        '400 invalid data (dateExpire in the past)',
        () => online([{ phone: PHONE }], { dateExpire: new Date(Date.now() - 60_000) }),
        'invalid-data',
        400,
        () => undefined,
      ],
      [
        '400 invalid data (description over 4000 characters)',
        () => online([{ phone: PHONE }], { description: 'я'.repeat(4001) }),
        'invalid-data',
        400,
        () => undefined,
      ],
      // Coverage outside the documented set: the type forbids it, Evrotrust answers 454.
      ['454 wrong coverage', () => online([{ phone: PHONE }], { coverage: 123 as never }), 'wrong-coverage', 454, () => undefined],
      [
        '457 file type not supported',
        () => online([{ phone: PHONE }], { filename: 'a.exe', content: Buffer.from('MZ\x90\x00 not a pdf', 'latin1') }),
        'unsupported-file-type',
        457,
        () => undefined,
      ],
      // An explicit PDF signature type on a file that is not a PDF: Evrotrust cannot apply PAdES to it.
      [
        '400 invalid data (PDF signInfo on a non-PDF)',
        () => ({
          ...online([{ phone: PHONE }], { filename: 'notes.txt', content: Buffer.from('plain text') }),
          signInfo: { type: 'PDF2' },
        }),
        'invalid-data',
        400,
        () => undefined,
      ],
      [
        '450 file too large',
        () => online([{ phone: PHONE }], { content: Buffer.concat([PDF, Buffer.alloc(MAX_FILE_BYTES)]) }),
        'file-too-large',
        450,
        () => undefined,
      ],
      ['449 user data not valid', () => online([{ identificationNumber: '0000000001' }]), 'user-data-invalid', 449, () => undefined],
      [
        '438 user not found',
        () => online([{ identificationNumber: '7505100030' }]),
        'user-not-found',
        438,
        () => sim.controls.setUser('7505100030', { isRegistered: false }),
      ],
      [
        '442 no certificate',
        () => online([{ email: 'no.cert@example.bg' }]),
        'no-certificate',
        442,
        () => sim.controls.setUser('no.cert@example.bg', { hasCertificate: false }),
      ],
    ];
    for (const [title, input, code, httpStatus, prepare] of refusals) {
      it(`${title} → ${code}: not retryable, outcome known (nothing was created)`, async () => {
        prepare();
        const before = sim.controls.transactions().length;
        expectError(await failure(client.sendOnline(input())), {
          code,
          httpStatus,
          retryable: false,
          outcomeUnknown: false,
          endpoint: '/document/doc/online',
        });
        assert.equal(sim.controls.transactions().length, before, 'nothing was created');
      });
    }
  });

  describe('what Evrotrust does beyond sign/reject/expire', () => {
    it('a non-PDF file goes as CAD1 with preview 0, and the signed copy decrypts byte for byte', async () => {
      const content = Buffer.from('Протокол: неподписан текст\n', 'utf8');
      const sent = await client.sendOnline(online([{ email: EMAIL }], { filename: 'protokol.txt', content, preview: true }));
      const tx = sent.transactions[0]!.transactionID;
      await sim.controls.sign(tx);
      await waitNotProcessing(tx);
      const [file, ...more] = await decryptDownload(await client.download(tx), PRIVATE_KEY_PEM);
      assert.equal(more.length, 0, 'the signature report is not a document');
      assert.equal(file?.filename, 'protokol.txt');
      assert.ok(Buffer.from(file!.content).equals(Buffer.from(sim.controls.transaction(tx)!.signedDocument!.content)));
    });

    it('5 failed, 7 undeliverable, 8 face recognition failed are final; 99 on hold is not, and can still be signed', async () => {
      const sent = await client.sendOnline(
        online([{ identificationNumber: EGN_A }, { identificationNumber: EGN_B }, { phone: PHONE }, { email: EMAIL }]),
      );
      const [t5, t7, t8, t99] = sent.transactions.map((t) => t.transactionID) as [string, string, string, string];
      const names: Array<[string, 5 | 7 | 8, string]> = [
        [t5, 5, 'failed'],
        [t7, 7, 'undeliverable'],
        [t8, 8, 'faceRecognitionFailed'],
      ];
      for (const [tx, status, name] of names) {
        await sim.controls.setStatus(tx, status);
        assert.deepEqual(await client.status(tx), { status, statusName: name, isProcessing: false, isFinal: true, rejectReason: null });
      }
      await sim.controls.setStatus(t99, 99);
      assert.deepEqual(await client.status(t99), {
        status: 99,
        statusName: 'onHold',
        isProcessing: false,
        isFinal: false,
        rejectReason: null,
      });
      await sim.controls.sign(t99);
      assert.equal((await client.status(t99)).status, 2);
    });

    it('443 from /document/status just after a create is a typed document-not-found, then the status arrives', async () => {
      const lagging = await startSimulator({ port: 0, statusNotFoundMs: 400, callbackAttempts: 1 });
      try {
        const c = createEvrotrustClient({
          baseUrl: lagging.vendorBaseUrl,
          vendorNumber: SANDBOX_VENDOR_NUMBER,
          apiKey: SANDBOX_API_KEY,
          publicKeyPem: PUBLIC_KEY_PEM,
        });
        const sent = await c.sendOnline(online([{ phone: PHONE }]));
        const tx = sent.transactions[0]!.transactionID;
        const early = await failure(c.status(tx));
        expectError(early, {
          code: 'document-not-found',
          httpStatus: 443,
          retryable: false,
          outcomeUnknown: false,
          endpoint: '/document/status',
        });
        assert.equal(early.transactionID, tx);
        await new Promise((r) => setTimeout(r, 450));
        assert.equal((await c.status(tx)).statusName, 'pending');
      } finally {
        await lagging.close();
      }
    });

    it('a one-shot 443 from /document/download after status 2 is a typed document-not-found; the next download works', async () => {
      const sent = await client.sendOnline(online([{ phone: PHONE }]));
      const tx = sent.transactions[0]!.transactionID;
      await sim.controls.sign(tx);
      await waitNotProcessing(tx);
      sim.controls.failNext('/document/download', { status: 443 });
      expectError(await failure(client.download(tx)), {
        code: 'document-not-found',
        httpStatus: 443,
        retryable: false,
        outcomeUnknown: false,
        endpoint: '/document/download',
      });
      sim.controls.failNext('/document/download', { status: 438 });
      expectError(await failure(client.download(tx)), {
        code: 'user-not-found',
        httpStatus: 438,
        retryable: false,
        outcomeUnknown: false,
        endpoint: '/document/download',
      });
      assert.equal((await decryptDownload(await client.download(tx), PRIVATE_KEY_PEM)).length, 1);
    });
  });

  describe('/document/doc/offline with activate and resend (OTP)', () => {
    it('200 → transactionID; 432 wrong code; resend 204 issues a new code; activate 204 signs', async () => {
      const { transactionID } = await client.sendOffline(offline());
      const view = sim.controls.transaction(transactionID);
      assert.equal(view?.kind, 'offline');
      assert.equal(view?.status, 1);
      const firstCode = view?.otpCode;
      assert.ok(firstCode);

      const wrong = await failure(client.activateOffline(transactionID, firstCode === '000000' ? '111111' : '000000'));
      assert.ok(wrong instanceof EvrotrustOtpError);
      expectError(wrong, {
        code: 'wrong-activation-code',
        httpStatus: 432,
        retryable: false,
        outcomeUnknown: false,
        endpoint: '/document/doc/offline/activate',
      });
      assert.equal(wrong.transactionID, transactionID);

      await client.resendOfflineCode(transactionID, PHONE);
      const secondCode = sim.controls.transaction(transactionID)?.otpCode;
      assert.ok(secondCode);
      // The resent code works (the old one may by chance equal it, so only the new one is used).
      await client.activateOffline(transactionID, secondCode);
      const status = await client.status(transactionID);
      assert.equal(status.status, 2);
    });

    it("resend to a phone that is not the signer's → 449; unknown transaction → 443", async () => {
      const { transactionID } = await client.sendOffline(offline());
      expectError(await failure(client.resendOfflineCode(transactionID, '+359899000000')), {
        code: 'user-data-invalid',
        httpStatus: 449,
        retryable: false,
        outcomeUnknown: false,
      });
      expectError(await failure(client.activateOffline('no-such-tx', '123456')), {
        code: 'document-not-found',
        httpStatus: 443,
        retryable: false,
        outcomeUnknown: false,
      });
      expectError(await failure(client.resendOfflineCode('no-such-tx', PHONE)), {
        code: 'document-not-found',
        httpStatus: 443,
        retryable: false,
        outcomeUnknown: false,
      });
    });

    it('448 activation code expired → activation-code-expired (EvrotrustOtpError)', async () => {
      const shortClient = createEvrotrustClient({
        baseUrl: shortOtpSim.vendorBaseUrl,
        vendorNumber: SANDBOX_VENDOR_NUMBER,
        apiKey: SANDBOX_API_KEY,
        publicKeyPem: PUBLIC_KEY_PEM,
      });
      const { transactionID } = await shortClient.sendOffline(offline());
      await new Promise((r) => setTimeout(r, 20));
      const code = shortOtpSim.controls.transaction(transactionID)?.otpCode ?? '123456';
      const e = await failure(shortClient.activateOffline(transactionID, code));
      assert.ok(e instanceof EvrotrustOtpError);
      expectError(e, { code: 'activation-code-expired', httpStatus: 448, retryable: false, outcomeUnknown: false });
    });

    it('an OTP phone without the leading + is refused before sending, naming the field', async () => {
      const before = sim.controls.transactions().length;
      const e = await failure(client.sendOffline(offline({ phone: '0888123456' })));
      assert.ok(e instanceof EvrotrustRequestError);
      expectError(e, { code: 'invalid-request', retryable: false, outcomeUnknown: false, endpoint: '/document/doc/offline' });
      assert.equal(e.field, 'signer.phone');
      assert.doesNotMatch(e.message, /0888123456/, 'no personal data in the message');
      const resend = await failure(client.resendOfflineCode('123', '359888123456'));
      assert.equal(resend.field, 'phone');
      assert.equal(sim.controls.transactions().length, before, 'nothing was created');
    });

    it('offline refusals: 449 bad ЕГН, 442 no certificate, 454 coverage, 457 file type', async () => {
      expectError(await failure(client.sendOffline(offline({ identificationNumber: '1111111111' }))), {
        code: 'user-data-invalid',
        httpStatus: 449,
        retryable: false,
        outcomeUnknown: false,
        endpoint: '/document/doc/offline',
      });
      sim.controls.setUser('+359888000442', { hasCertificate: false });
      expectError(await failure(client.sendOffline(offline({ identificationNumber: EGN_B, phone: '+359888000442' }))), {
        code: 'no-certificate',
        httpStatus: 442,
        retryable: false,
        outcomeUnknown: false,
      });
      expectError(
        await failure(
          client.sendOffline({ ...offline(), document: { filename: 'a.pdf', content: PDF, description: 'x', coverage: 7 as never } }),
        ),
        { code: 'wrong-coverage', httpStatus: 454, retryable: false, outcomeUnknown: false },
      );
      expectError(
        await failure(
          client.sendOffline({
            ...offline(),
            document: { filename: 'a.bin', content: Buffer.from('\x7fELF\x02\x01', 'latin1'), description: 'x' },
          }),
        ),
        { code: 'unsupported-file-type', httpStatus: 457, retryable: false, outcomeUnknown: false },
      );
    });
  });

  describe('injected faults (controls.failNext)', () => {
    it('469 on a read and on a create → retryable after 60 s, outcome known', async () => {
      sim.controls.failNext('/document/status', { status: 469 });
      expectError(await failure(client.status('any')), {
        code: 'try-again-later',
        httpStatus: 469,
        retryable: true,
        outcomeUnknown: false,
        retryAfterMs: 60_000,
      });
      sim.controls.failNext('/document/doc/online', { status: 469 });
      expectError(await failure(client.sendOnline(online([{ phone: PHONE }]))), {
        code: 'try-again-later',
        httpStatus: 469,
        retryable: true,
        outcomeUnknown: false,
        retryAfterMs: 60_000,
      });
      // The fault was used up: the same call now goes through.
      assert.equal((await client.sendOnline(online([{ phone: PHONE }]))).transactions.length, 1);
    });

    it('468 → unknown-provider-error: not retryable; outcome unknown on creates only', async () => {
      sim.controls.failNext('/document/status', { status: 468 });
      expectError(await failure(client.status('any')), {
        code: 'unknown-provider-error',
        httpStatus: 468,
        retryable: false,
        outcomeUnknown: false,
      });
      sim.controls.failNext('/document/doc/online', { status: 468 });
      expectError(await failure(client.sendOnline(online([{ phone: PHONE }]))), {
        code: 'unknown-provider-error',
        httpStatus: 468,
        retryable: false,
        outcomeUnknown: true,
      });
      sim.controls.failNext('/document/doc/offline', { status: 468 });
      expectError(await failure(client.sendOffline(offline())), {
        code: 'unknown-provider-error',
        httpStatus: 468,
        retryable: false,
        outcomeUnknown: true,
      });
    });

    it('5xx on reads → retryable', async () => {
      sim.controls.failNext('/document/status', { status: 500 });
      expectError(await failure(client.status('any')), { code: 'server-error', httpStatus: 500, retryable: true, outcomeUnknown: false });
      sim.controls.failNext('/document/download', { status: 503 });
      expectError(await failure(client.download('any')), { code: 'server-error', httpStatus: 503, retryable: true, outcomeUnknown: false });
      sim.controls.failNext('/user/check/extended', { status: 502 });
      expectError(await failure(client.checkUser({ phone: PHONE })), {
        code: 'server-error',
        httpStatus: 502,
        retryable: true,
        outcomeUnknown: false,
      });
    });

    it('5xx on creates → outcome unknown, never retryable', async () => {
      sim.controls.failNext('/document/doc/online', { status: 500 });
      expectError(await failure(client.sendOnline(online([{ phone: PHONE }]))), {
        code: 'server-error',
        httpStatus: 500,
        retryable: false,
        outcomeUnknown: true,
      });
      sim.controls.failNext('/document/doc/offline', { status: 503 });
      expectError(await failure(client.sendOffline(offline())), {
        code: 'server-error',
        httpStatus: 503,
        retryable: false,
        outcomeUnknown: true,
      });
    });

    it('5xx on activate (not repeatable), resend and withdraw (repeatable)', async () => {
      sim.controls.failNext('/document/doc/offline/activate', { status: 500 });
      expectError(await failure(client.activateOffline('any', '123456')), {
        code: 'server-error',
        httpStatus: 500,
        retryable: false,
        outcomeUnknown: true,
      });
      sim.controls.failNext('/document/doc/offline/activate/resend', { status: 500 });
      expectError(await failure(client.resendOfflineCode('any', PHONE)), {
        code: 'server-error',
        httpStatus: 500,
        retryable: true,
        outcomeUnknown: true,
      });
      sim.controls.failNext('/document/withdraw', { status: 500 });
      expectError(await failure(client.withdraw('any')), { code: 'server-error', httpStatus: 500, retryable: true, outcomeUnknown: true });
    });

    it('timeouts: a read is retryable, a create is outcome unknown and not retryable', async () => {
      const impatient = createEvrotrustClient({
        baseUrl: sim.vendorBaseUrl,
        vendorNumber: SANDBOX_VENDOR_NUMBER,
        apiKey: SANDBOX_API_KEY,
        publicKeyPem: PUBLIC_KEY_PEM,
        timeoutMs: 100,
        transferTimeoutMs: 100,
        logger,
      });
      sim.controls.failNext('/document/status', { delayMs: 400 });
      expectError(await failure(impatient.status('any')), {
        code: 'timeout',
        retryable: true,
        outcomeUnknown: false,
        endpoint: '/document/status',
      });
      sim.controls.failNext('/document/download', { delayMs: 400 });
      expectError(await failure(impatient.download('any')), { code: 'timeout', retryable: true, outcomeUnknown: false });
      sim.controls.failNext('/user/check/extended', { delayMs: 400 });
      expectError(await failure(impatient.checkUser({ phone: PHONE })), { code: 'timeout', retryable: true, outcomeUnknown: false });
      sim.controls.failNext('/document/doc/online', { delayMs: 400 });
      expectError(await failure(impatient.sendOnline(online([{ phone: PHONE }]))), {
        code: 'timeout',
        retryable: false,
        outcomeUnknown: true,
        endpoint: '/document/doc/online',
      });
      sim.controls.failNext('/document/doc/offline', { delayMs: 400 });
      expectError(await failure(impatient.sendOffline(offline())), {
        code: 'timeout',
        retryable: false,
        outcomeUnknown: true,
        endpoint: '/document/doc/offline',
      });
    });

    it('a malformed 200 answer → malformed-response naming the field', async () => {
      sim.controls.failNext('/document/status', { status: 200, body: { status: 2 } });
      const e = await failure(client.status('any'));
      expectError(e, { code: 'malformed-response', httpStatus: 200, retryable: false, outcomeUnknown: false });
      assert.equal(e.field, 'isProcessing');
      sim.controls.failNext('/document/doc/online', { status: 200, body: { transactions: [] } });
      const created = await failure(client.sendOnline(online([{ phone: PHONE }])));
      expectError(created, { code: 'malformed-response', httpStatus: 200, retryable: false, outcomeUnknown: true });
      assert.equal(created.field, 'threadID');
    });
  });
});

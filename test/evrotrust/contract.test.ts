// Contract tests: Evrotrust's published request and response shapes, written out as fixtures in
// test/fixtures/evrotrust/ (each with its source), against the client. Responses are served by a
// tiny real HTTP server and parsed by the client's own calls; requests the client produces are
// captured and checked against the documented shapes (fields, types, allowed values, one
// identifier per users[] item, signInfo present). A schema change that breaks a documented shape
// fails here. See docs/evrotrust.md.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { authorizationHeader } from '../../src/evrotrust/auth';
import { createEvrotrustClient, type EvrotrustClient } from '../../src/evrotrust/client';

const DIR = join(__dirname, '../fixtures/evrotrust');

const responseFixture = z.object({
  source: z.string().min(10),
  endpoint: z.string(),
  kind: z.literal('response'),
  httpStatus: z.number().int(),
  body: z.unknown(),
  expect: z.record(z.string(), z.unknown()),
});
const requestFixture = z.object({
  source: z.string().min(10),
  endpoint: z.string(),
  kind: z.literal('request'),
  shape: z.record(z.string(), z.unknown()),
  values: z.record(z.string(), z.array(z.union([z.string(), z.number()]))).optional(),
  patterns: z.record(z.string(), z.string()).optional(),
  apiKey: z.string().optional(),
  bodyText: z.string().optional(),
  authorization: z.string().optional(),
});
type ResponseFixture = z.infer<typeof responseFixture>;
type RequestFixture = z.infer<typeof requestFixture>;

function load(): { responses: Map<string, ResponseFixture>; requests: Map<string, RequestFixture> } {
  const responses = new Map<string, ResponseFixture>();
  const requests = new Map<string, RequestFixture>();
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const raw: unknown = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    const kind = (raw as { kind?: unknown }).kind;
    if (kind === 'response') responses.set(file, responseFixture.parse(raw));
    else requests.set(file, requestFixture.parse(raw));
  }
  return { responses, requests };
}
const { responses, requests } = load();

// ---- a tiny server: answers with the fixture body, records what the client sent ----

interface Captured {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
let answer: { status: number; body: unknown } = { status: 200, body: {} };
const captured: Captured[] = [];
let baseUrl = '';
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    captured.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
    if (req.url === '/vendor/document/download') {
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(Buffer.from('PK\x03\x04', 'latin1'));
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
});

const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_KEY_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const API_KEY = 'contract-test-key';
let client: EvrotrustClient;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vendor`;
  client = createEvrotrustClient({ baseUrl, vendorNumber: 'ContractVendor', apiKey: API_KEY, publicKeyPem: PUBLIC_KEY_PEM });
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const PDF = Buffer.from('%PDF-1.4\n%%EOF\n', 'latin1');
const inOneHour = (): Date => new Date(Date.now() + 3_600_000);

/** The multipart `data` field of a captured create call, parsed. */
function dataField(req: Captured): { text: string; json: Record<string, unknown> } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
  assert.ok(boundary, 'multipart/form-data with a boundary');
  const marker = `--${boundary[1] ?? boundary[2]}`;
  const part = req.body
    .toString('latin1')
    .split(marker)
    .find((p) => /name="data"/.test(p));
  assert.ok(part, 'a data field');
  const text = part.slice(part.indexOf('\r\n\r\n') + 4, part.lastIndexOf('\r\n'));
  return { text, json: JSON.parse(text) as Record<string, unknown> };
}

function captureJson(req: Captured): Record<string, unknown> {
  return JSON.parse(req.body.toString('latin1')) as Record<string, unknown>;
}

/**
 * Checks `value` against a documented shape: every key sent is documented, every documented
 * required key ("type" without "?") is present, and types match ("string", "integer").
 */
function conforms(value: unknown, shape: unknown, path = '(root)'): void {
  if (typeof shape === 'string') {
    const type = shape.replace(/\?$/, '');
    if (type === 'string') assert.equal(typeof value, 'string', `${path}: a string`);
    else if (type === 'integer') assert.ok(Number.isInteger(value), `${path}: an integer`);
    else assert.fail(`unknown type ${shape} in fixture`);
    return;
  }
  if (Array.isArray(shape)) {
    assert.ok(Array.isArray(value), `${path}: an array`);
    for (const [i, item] of value.entries()) conforms(item, shape[0], `${path}[${i}]`);
    return;
  }
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${path}: an object`);
  const obj = value as Record<string, unknown>;
  const documented = shape as Record<string, unknown>;
  for (const key of Object.keys(obj)) assert.ok(key in documented, `${path}.${key} is not a documented field`);
  for (const [key, sub] of Object.entries(documented)) {
    const optional = typeof sub === 'string' && sub.endsWith('?');
    if (!(key in obj)) {
      // Optional leaves may be absent; so may urlCallback ("Optional parameter") and agentIdentificationNumber.
      assert.ok(optional || key === 'urlCallback', `${path}.${key} is missing`);
      continue;
    }
    conforms(obj[key], sub, `${path}.${key}`);
  }
}

function at(obj: Record<string, unknown>, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function checkValues(body: Record<string, unknown>, fixture: RequestFixture): void {
  for (const [path, allowed] of Object.entries(fixture.values ?? {})) {
    assert.ok(
      allowed.includes(at(body, path) as string | number),
      `${path} = ${JSON.stringify(at(body, path))} is one of ${allowed.join(', ')}`,
    );
  }
  for (const [path, pattern] of Object.entries(fixture.patterns ?? {})) {
    assert.match(String(at(body, path)), new RegExp(pattern), path);
  }
}

function fixture<T>(map: Map<string, T>, name: string): T {
  const f = map.get(name);
  assert.ok(f, `fixture ${name} exists`);
  return f;
}

describe('contract fixtures', () => {
  it('every fixture names its source and a known endpoint', () => {
    assert.ok(responses.size >= 8 && requests.size >= 6, 'the fixture set is complete');
    for (const f of [...responses.values(), ...requests.values()]) assert.match(f.endpoint, /^\/(user|document)\//);
  });
});

describe('documented responses parse', () => {
  for (const [name, f] of responses) {
    it(`${name}`, async () => {
      answer = { status: f.httpStatus, body: f.body };
      switch (f.endpoint) {
        case '/user/check/extended': {
          const r = await client.checkUser({ phone: '+359888123456' });
          for (const [k, v] of Object.entries(f.expect)) assert.deepEqual(r[k as keyof typeof r], v, k);
          break;
        }
        case '/document/doc/online': {
          const r = await client.sendOnline({
            document: { filename: 'a.pdf', content: PDF, description: 'x', dateExpire: inOneHour() },
            signers: [{ phone: '+359888123456' }],
            urlCallback: 'http://127.0.0.1:3000/cb',
          });
          assert.equal(r.threadID, f.expect.threadID);
          assert.deepEqual(
            r.transactions.map((t) => t.transactionID),
            f.expect.transactionIDs,
          );
          break;
        }
        case '/document/doc/offline': {
          const r = await client.sendOffline({
            document: { filename: 'a.pdf', content: PDF, description: 'x' },
            signer: { identificationNumber: '8611048980', phone: '+359888123456' },
            urlCallback: 'http://127.0.0.1:3000/cb',
          });
          assert.deepEqual(r, f.expect);
          break;
        }
        case '/document/status':
          assert.deepEqual(await client.status('1'), f.expect);
          break;
        case '/document/withdraw':
          assert.deepEqual(await client.withdraw('1'), f.expect);
          break;
        default:
          assert.fail(`no contract check for ${f.endpoint}`);
      }
    });
  }
});

describe('requests the client produces match the documented shapes', () => {
  before(() => {
    answer = {
      status: 200,
      body: { threadID: '1', transactionID: '2', transactions: [{ transactionID: '2' }, { transactionID: '3' }, { transactionID: '4' }] },
    };
  });

  it('the Swagger Authorization example: the HMAC of the exact bytes', () => {
    const f = fixture(requests, 'user-check-extended.request.swagger-example.json');
    assert.equal(authorizationHeader(f.apiKey ?? '', f.bodyText ?? ''), f.authorization);
  });

  it('/user/check/extended: documented fields only, one identifier', async () => {
    const f = fixture(requests, 'user-check-extended.request.swagger-example.json');
    captured.length = 0;
    answer = { status: 200, body: { isRegistered: 1, isReadyToSign: 1 } };
    await client.checkUser({ identificationNumber: '8611048980', country: 'BG', phone: '+359888123456', email: 'a@b.bg' });
    const body = captureJson(captured[0]!);
    conforms(body, f.shape);
    assert.deepEqual(body.user, { identificationNumber: '8611048980', country: 'BG' });
  });

  it('/document/doc/online: documented fields and values, signInfo present, one identifier per users[] item', async () => {
    const f = fixture(requests, 'document-doc-online.request.swagger.json');
    answer = {
      status: 200,
      body: { threadID: '1', transactionID: '2', transactions: [{ transactionID: '2' }, { transactionID: '3' }, { transactionID: '4' }] },
    };
    for (const file of [
      { filename: 'Договор.pdf', content: PDF },
      { filename: 'notes.txt', content: Buffer.from('text') },
      { filename: 'data.xml', content: Buffer.from('<a/>') },
    ]) {
      captured.length = 0;
      await client.sendOnline({
        document: { ...file, description: 'Договор за наем', dateExpire: inOneHour() },
        signers: [
          { identificationNumber: '8611048980', country: 'BG', phone: '+359888123456', email: 'a@b.bg' },
          { phone: '+359888000111', email: 'c@d.bg' },
          { email: 'e@f.bg' },
        ],
        urlCallback: 'http://127.0.0.1:3000/cb',
      });
      const req = captured[0]!;
      const { text, json } = dataField(req);
      assert.equal(req.headers.authorization, authorizationHeader(API_KEY, text), 'the HMAC covers the data field');
      conforms(json, f.shape);
      checkValues(json, f);
      assert.ok(json.signInfo, 'signInfo is always sent');
      for (const user of json.users as Record<string, unknown>[]) {
        const ids = ['identificationNumber', 'phone', 'email'].filter((k) => k in user);
        assert.equal(ids.length, 1, `one identifier per users[] item, got ${ids.join(', ')}`);
        if ('country' in user) assert.ok('identificationNumber' in user, 'country only with identificationNumber');
      }
      const isPdf = file.filename.endsWith('.pdf');
      assert.equal((json.document as { preview: number }).preview, isPdf ? 1 : 0, 'preview only for PDF');
      assert.ok(/^[\x20-\x7e]*$/.test(text), 'ASCII only');
    }
  });

  it('/document/doc/offline: documented fields, values and the phone pattern', async () => {
    const f = fixture(requests, 'document-doc-offline.request.swagger.json');
    captured.length = 0;
    answer = { status: 200, body: { transactionID: '9' } };
    await client.sendOffline({
      document: { filename: 'a.pdf', content: PDF, description: 'x' },
      signer: { identificationNumber: '8611048980', documentNumber: '640000000', phone: '+359888123456', email: 'a@b.bg' },
      urlCallback: 'http://127.0.0.1:3000/cb',
    });
    const { json } = dataField(captured[0]!);
    conforms(json, f.shape);
    checkValues(json, f);
  });

  for (const [name, endpoint, call] of [
    ['document-status.request.swagger.json', '/document/status', () => client.status('7')],
    ['document-download.request.swagger.json', '/document/download', () => client.download('7')],
    ['document-withdraw.request.swagger.json', '/document/withdraw', () => client.withdraw('8')],
  ] as const) {
    it(`${endpoint}: documented fields only`, async () => {
      const f = fixture(requests, name);
      captured.length = 0;
      answer = { status: 200, body: endpoint === '/document/withdraw' ? { status: 1 } : { status: 1, isProcessing: false } };
      await call();
      assert.equal(captured[0]?.url, `/vendor${endpoint}`);
      conforms(captureJson(captured[0]!), f.shape);
    });
  }
});

// Test helpers for the simulator: a vendor-side caller that signs requests exactly as Evrotrust
// expects (written here from the API description, independent of src/evrotrust/client.ts), a
// callback receiver listening on 127.0.0.1 that records the peer address, and polling with a deadline.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizationHeader } from '../../src/evrotrust/auth';
import { createEvrotrustClient, type EvrotrustClient } from '../../src/evrotrust/client';
import { sha512Hex } from '../../src/lib/hash';
import { SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, startSimulator, type Simulator, type SimulatorOptions } from '../../simulator';

let keys: { publicKeyPem: string; privateKeyPem: string } | undefined;

/** Our Evrotrust client against a simulator (or a relay in front of one), with the sandbox credentials and vendorKeys(). */
export function clientFor(target: Simulator | string): EvrotrustClient {
  return createEvrotrustClient({
    baseUrl: typeof target === 'string' ? target : target.vendorBaseUrl,
    vendorNumber: SANDBOX_VENDOR_NUMBER,
    apiKey: SANDBOX_API_KEY,
    publicKeyPem: vendorKeys().publicKeyPem,
  });
}

/** One RSA-2048 key pair per test process (generation takes ~100 ms). */
export function vendorKeys(): { publicKeyPem: string; privateKeyPem: string; publicKey: string } {
  keys ??= (() => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  })();
  return { ...keys, publicKey: Buffer.from(keys.publicKeyPem, 'utf8').toString('base64') };
}

/** A small, valid-looking PDF; `marker` makes each one distinct. */
export function samplePdf(marker = 'hello'): Uint8Array {
  return Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${marker}\ntrailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1');
}

export const VALID_EGN = '8611048980'; // the ЕГН of Evrotrust's published example
export const OTHER_EGN = '7501020018';

export interface VendorAnswer {
  status: number;
  json: unknown;
  bytes: Uint8Array;
  headers: Headers;
}

async function answer(res: Response): Promise<VendorAnswer> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').includes('json') && bytes.length > 0) json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  return { status: res.status, json, bytes, headers: res.headers };
}

export interface CallOptions {
  apiKey?: string;
  authorization?: string;
  signal?: AbortSignal;
}

/** A JSON vendor call; `body` gets the sandbox vendorNumber unless it has one. */
export async function vendorJson(
  sim: Simulator,
  endpoint: string,
  body: Record<string, unknown>,
  opts: CallOptions = {},
): Promise<VendorAnswer> {
  const text = JSON.stringify({ vendorNumber: SANDBOX_VENDOR_NUMBER, ...body });
  const res = await fetch(sim.vendorBaseUrl + endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: opts.authorization ?? authorizationHeader(opts.apiKey ?? SANDBOX_API_KEY, text),
    },
    body: text,
    signal: opts.signal,
  });
  return answer(res);
}

export interface Upload {
  filename?: string;
  content?: Uint8Array;
}

/** A multipart create call: `data` as a text field (signed), the file as field `document`. */
export async function vendorMultipart(
  sim: Simulator,
  endpoint: string,
  data: Record<string, unknown>,
  upload: Upload = {},
  opts: CallOptions = {},
): Promise<VendorAnswer> {
  const text = JSON.stringify({ vendorNumber: SANDBOX_VENDOR_NUMBER, ...data });
  const form = new FormData();
  form.append('data', text);
  const content = upload.content ?? samplePdf();
  form.append('document', new Blob([content], { type: 'application/pdf' }), upload.filename ?? 'contract.pdf');
  const res = await fetch(sim.vendorBaseUrl + endpoint, {
    method: 'POST',
    headers: { authorization: opts.authorization ?? authorizationHeader(opts.apiKey ?? SANDBOX_API_KEY, text) },
    body: form,
    signal: opts.signal,
  });
  return answer(res);
}

export interface OnlineInput {
  users?: Record<string, unknown>[];
  urlCallback?: string;
  dateExpire?: number;
  coverage?: number;
  description?: string;
  content?: Uint8Array;
  filename?: string;
  document?: Record<string, unknown>;
}

export function onlineData(input: OnlineInput = {}): Record<string, unknown> {
  const content = input.content ?? samplePdf();
  return {
    publicKey: vendorKeys().publicKey,
    urlCallback: input.urlCallback ?? 'http://127.0.0.1:9/evrotrust/callback',
    document: {
      description: input.description ?? 'Employment contract',
      dateExpire: input.dateExpire ?? Math.floor(Date.now() / 1000) + 3600,
      coverage: input.coverage ?? 0,
      preview: 0,
      checksumDocument: sha512Hex(content),
      ...input.document,
    },
    signInfo: { type: 'PDF1', algorithm: 'SHA256' },
    users: input.users ?? [{ identificationNumber: VALID_EGN, country: 'BG' }],
  };
}

export interface OnlineCreated {
  threadID: string;
  transactionID: string;
  transactions: {
    transactionID: string;
    identificationNumber: string | null;
    country: string | null;
    email: string | null;
    phone: string | null;
  }[];
}

/** Sends a document for online signing and expects success. */
export async function sendOnline(sim: Simulator, input: OnlineInput = {}): Promise<OnlineCreated> {
  const res = await vendorMultipart(sim, '/document/doc/online', onlineData(input), { content: input.content, filename: input.filename });
  if (res.status !== 200) throw new Error(`doc/online answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json as OnlineCreated;
}

export function offlineData(
  input: { urlCallback?: string; content?: Uint8Array; phone?: string; coverage?: number } = {},
): Record<string, unknown> {
  const content = input.content ?? samplePdf();
  return {
    publicKey: vendorKeys().publicKey,
    urlCallback: input.urlCallback ?? 'http://127.0.0.1:9/evrotrust/callback',
    user: { identificationNumber: VALID_EGN, phone: input.phone ?? '+359888123456' },
    document: { description: 'Loan agreement', coverage: input.coverage ?? 0, checksumDocument: sha512Hex(content) },
    signInfo: { type: 'PDF1', algorithm: 'SHA256' },
  };
}

export interface ReceivedCallback {
  path: string;
  body: unknown;
  remoteAddress: string | undefined;
  contentType: string | undefined;
  at: number;
}

export interface CallbackServer {
  /** Base URL to use as urlCallback, e.g. http://127.0.0.1:12345/hook */
  url: string;
  received: ReceivedCallback[];
  /** How to answer the next callback: an HTTP status, or 'hang' (never answer). Default 200. */
  answers: (number | 'hang')[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records callbacks and the address they came from. */
export async function startCallbackServer(): Promise<CallbackServer> {
  const received: ReceivedCallback[] = [];
  const answers: (number | 'hang')[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
      received.push({
        path: req.url ?? '',
        body,
        remoteAddress: req.socket.remoteAddress,
        contentType: req.headers['content-type'],
        at: Date.now(),
      });
      const next = answers.shift() ?? 200;
      if (next === 'hang') return;
      res.statusCode = next;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A simulator on a free port with test-friendly timings; callbacks leave from 127.0.0.2. The
 * 443-after-create window is off (statusNotFoundMs 0) unless a test asks for it.
 */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({
    port: 0,
    statusNotFoundMs: 0,
    callbackSourceAddress: '127.0.0.2',
    callbackRetryDelayMs: 20,
    callbackTimeoutMs: 2000,
    processingMs: 50,
    ...options,
  });
}

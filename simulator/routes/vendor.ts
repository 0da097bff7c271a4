// The Evrotrust vendor API, under /vendor: the endpoints, bodies and HTTP codes of Evrotrust's
// Swagger v1.0.154 and help portal (docs/evrotrust.md), written from those, not from our client.
// Every call is checked in this order: fault injection (a test asked for it), Authorization over
// the exact body bytes (401), JSON (400), vendorNumber (401), the body's shape (400), then the
// business rules in the engine (engine.ts) (4xx codes of the API).

import { timingSafeEqual } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authorizationHeader } from '../../src/evrotrust/auth';
import { formatZodIssues } from '../../src/lib/zod-issues';
import { signerIdentitySchema } from '../../src/lib/signer';
import { SimulatorClosedError, sleep } from '../callback-sender';
import { MAX_DESCRIPTION_LENGTH, SIGNATURE_TYPES } from '../defaults';
import { VENDOR_ERROR_TEXT, VendorError } from '../errors';
import { VENDOR_ENDPOINTS, type FaultInjector, type VendorEndpoint } from '../faults';
import { GROUP_MAX_DOCUMENTS, type SimulatorEngine, type UploadedFile } from '../engine';

export interface VendorRoutesOptions {
  engine: SimulatorEngine;
  faults: FaultInjector;
  vendorNumber: string;
  apiKey: string;
  maxFileBytes: number;
  /** Aborted when the simulator closes: ends injected hangs. */
  closing: AbortSignal;
}

// ---- one schema per route (structure only; business rules answer with their own codes) ----

const text = z.string();
const id = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

/** A person named in a request (src/lib/signer.ts): structure only, the rules are the engine's 449. */
const userSchema = signerIdentitySchema;

/**
 * A `users[]` item of `/document/doc/online`: Swagger, "in every item of the array has to be added
 * only one of the parameters". `country` is not one of them: it "will be used only if
 * identificationNumber is send", so it does not count.
 */
const onlineUserSchema = userSchema.refine((u) => [u.identificationNumber, u.phone, u.email].filter((v) => v !== undefined).length === 1, {
  message: 'every users[] item must carry exactly one of identificationNumber, phone, email',
});

/** Swagger signInfo: type PDF1, PDF2, XML1, XML2, CAD1, CAD2 (plus XML3, which DigitalSofia sends in production); algorithm "SHA256". */
const signInfoSchema = z.object(
  {
    type: z.enum(SIGNATURE_TYPES, { message: `signInfo.type must be one of ${SIGNATURE_TYPES.join(', ')}` }),
    algorithm: z.literal('SHA256', { message: 'signInfo.algorithm must be "SHA256"' }),
  },
  { message: 'signInfo {type, algorithm} is required' },
);

const documentBase = {
  description: text.max(MAX_DESCRIPTION_LENGTH),
  // Absent coverage means none (0); a present value outside the allowed list is 454, not 400.
  coverage: z.number().int().optional(),
  checksumDocument: z.string().regex(/^[0-9a-fA-F]{128}$/, 'SHA-512 hex'),
  // Not in the 2022 Swagger; DigitalSofia sends 1 (qualified). An integer when present.
  certificateType: z.number().int().min(0).optional(),
};

const schemas = {
  '/user/check/extended': z.object({ vendorNumber: text, user: userSchema }),
  '/document/doc/online': z.object({
    vendorNumber: text,
    publicKey: text.min(1),
    urlCallback: text.min(1),
    document: z.object({
      ...documentBase,
      dateExpire: z.number().int().positive(),
      preview: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
    }),
    signInfo: signInfoSchema,
    users: z.array(onlineUserSchema).min(1),
  }),
  '/document/doc/offline': z.object({
    vendorNumber: text,
    publicKey: text.min(1),
    urlCallback: text.min(1),
    user: z.object({ identificationNumber: text, documentNumber: text.optional(), phone: text, email: text.optional() }),
    document: z.object(documentBase),
    signInfo: signInfoSchema,
  }),
  '/document/doc/offline/activate': z.object({
    vendorNumber: text,
    transactionID: id,
    activationCode: z.union([text, z.number().int()]).transform(String),
  }),
  '/document/doc/offline/activate/resend': z.object({ vendorNumber: text, transactionID: id, phone: text }),
  '/document/status': z.object({ vendorNumber: text, transactionID: id }),
  '/document/download': z.object({ vendorNumber: text, transactionID: id }),
  '/document/withdraw': z.object({ vendorNumber: text, threadID: id }),
  // Swagger /document/group/online `data`: per-document description/optional/preview/checksum;
  // coverage, dateExpire and groupDescription for the whole group; urlCallback "Optional parameter".
  // The 2–20 count and "the first document must always be optional=0" are the engine's 400s.
  '/document/group/online': z.object({
    vendorNumber: text,
    publicKey: text.min(1),
    urlCallback: text.min(1).optional(),
    groupDescription: text.max(MAX_DESCRIPTION_LENGTH).optional(),
    coverage: z.number().int().optional(),
    dateExpire: z.number().int().positive(),
    certificateType: z.number().int().min(0).optional(),
    documents: z.array(
      z.object({
        description: text.max(MAX_DESCRIPTION_LENGTH),
        optional: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
        preview: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
        checksumDocument: documentBase.checksumDocument,
      }),
    ),
    signInfo: signInfoSchema,
    users: z.array(onlineUserSchema).min(1),
  }),
  '/document/group/status': z.object({ vendorNumber: text, transactionID: id }),
  '/document/group/download': z.object({ vendorNumber: text, transactionID: id }),
  '/document/thread/status': z.object({ vendorNumber: text, threadID: id }),
} satisfies Record<VendorEndpoint, z.ZodType>;

type Body<E extends VendorEndpoint> = z.output<(typeof schemas)[E]>;

// ---- request reading ----

interface MultipartBody {
  /** The `data` field exactly as received: the Authorization header signs this string. */
  data: string;
  file: UploadedFile | undefined;
  /** The file went over maxFileBytes (450). */
  tooLarge: boolean;
  /** Something else wrong with the parts (400), reported after the Authorization check. */
  problem: string | undefined;
}

function invalid(detail: string): VendorError {
  return new VendorError(400, `${VENDOR_ERROR_TEXT[400]}: ${detail}`);
}

/**
 * Reads `data` (the JSON as a text field) and the file field `document`. A file over the limit is
 * cut short by busboy and answered 450 once the whole request is read.
 */
async function readMultipart(request: FastifyRequest, maxFileBytes: number): Promise<MultipartBody> {
  if (!request.isMultipart()) throw invalid('expected multipart/form-data with fields "data" and "document"');
  let data: string | undefined;
  let file: UploadedFile | undefined;
  let tooLarge = false;
  let problem: string | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxFileBytes, files: 5, fields: 20 } })) {
      if (part.type === 'file') {
        const chunks: Buffer[] = [];
        for await (const chunk of part.file) chunks.push(chunk as Buffer);
        if (part.fieldname !== 'document') problem ??= `unexpected file field "${part.fieldname}"`;
        else if (file) problem ??= 'more than one "document" file';
        else if (part.file.truncated) tooLarge = true;
        else file = { filename: part.filename, content: new Uint8Array(Buffer.concat(chunks)) };
      } else if (part.fieldname === 'data') {
        // A part declared application/json is parsed by the multipart plugin, which loses the exact
        // string the Authorization header signs; Evrotrust clients send `data` as a plain text field.
        if (typeof part.value !== 'string') problem ??= '"data" must be a plain text field (no JSON content type)';
        else data = part.value;
      }
    }
  } catch (err) {
    throw invalid(`malformed multipart body (${(err as Error).message})`);
  }
  if (data === undefined) throw invalid(problem ?? 'missing field "data"');
  return { data, file, tooLarge, problem };
}

interface GroupMultipartBody {
  data: string;
  /** In document order: `documents[i]` by its index, `documents[]` / `documents` in the order sent. */
  files: UploadedFile[];
  tooLarge: boolean;
  problem: string | undefined;
}

/**
 * Reads `data` and the files of `/document/group/online` (Swagger: file field `documents`, "Array of
 * files"). Production clients name the parts differently: DigitalSofia's Java client sends each as
 * `documents[]`, its Python client as `documents[0]`, `documents[1]`, …; all three are accepted.
 */
async function readGroupMultipart(request: FastifyRequest, maxFileBytes: number): Promise<GroupMultipartBody> {
  if (!request.isMultipart()) throw invalid('expected multipart/form-data with fields "data" and "documents[]"');
  let data: string | undefined;
  const ordered: UploadedFile[] = [];
  const indexed = new Map<number, UploadedFile>();
  let tooLarge = false;
  let problem: string | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxFileBytes, files: GROUP_MAX_DOCUMENTS + 5, fields: 20 } })) {
      if (part.type === 'file') {
        const chunks: Buffer[] = [];
        for await (const chunk of part.file) chunks.push(chunk as Buffer);
        const file = { filename: part.filename, content: new Uint8Array(Buffer.concat(chunks)) };
        const index = /^documents\[(\d{1,2})\]$/.exec(part.fieldname)?.[1];
        if (part.file.truncated) tooLarge = true;
        else if (index !== undefined) {
          if (indexed.has(Number(index))) problem ??= `more than one file "${part.fieldname}"`;
          indexed.set(Number(index), file);
        } else if (part.fieldname === 'documents[]' || part.fieldname === 'documents') ordered.push(file);
        else problem ??= `unexpected file field "${part.fieldname}"`;
      } else if (part.fieldname === 'data') {
        if (typeof part.value !== 'string') problem ??= '"data" must be a plain text field (no JSON content type)';
        else data = part.value;
      }
    }
  } catch (err) {
    throw invalid(`malformed multipart body (${(err as Error).message})`);
  }
  if (data === undefined) throw invalid(problem ?? 'missing field "data"');
  if (ordered.length > 0 && indexed.size > 0) problem ??= 'mixed "documents[]" and "documents[i]" file fields';
  const byIndex = [...indexed.keys()].sort((a, b) => a - b);
  if (byIndex.some((k, i) => k !== i)) problem ??= 'the "documents[i]" file fields must be numbered 0, 1, 2, … without gaps';
  const files = indexed.size > 0 ? byIndex.map((k) => indexed.get(k)!) : ordered;
  if (files.some((f) => f.content.length === 0)) problem ??= 'an empty file in "documents"';
  return { data, files, tooLarge, problem };
}

function verifyAuthorization(request: FastifyRequest, apiKey: string, signed: string | Uint8Array): void {
  const given = request.headers.authorization;
  const expected = Buffer.from(authorizationHeader(apiKey, signed), 'utf8');
  const actual = Buffer.from(typeof given === 'string' ? given.trim().toLowerCase() : '', 'utf8');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw new VendorError(401);
}

function parseBody<E extends VendorEndpoint>(endpoint: E, raw: string, vendorNumber: string): Body<E> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw invalid('body is not JSON');
  }
  const givenVendor = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).vendorNumber : undefined;
  if (givenVendor !== vendorNumber) throw new VendorError(401);
  const parsed = schemas[endpoint].safeParse(json);
  if (!parsed.success) {
    throw invalid(formatZodIssues(parsed.error, { root: '(root)' }));
  }
  return parsed.data as Body<E>;
}

// ---- the plugin ----

export const vendorRoutes: FastifyPluginAsync<VendorRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { engine, faults, vendorNumber, apiKey, maxFileBytes, closing } = opts;

  // Keep JSON bodies as raw bytes: the Authorization header signs exactly those bytes.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(multipart, { throwFileSizeLimit: false });

  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    if (err instanceof VendorError) return reply.code(err.statusCode).send({ status: err.statusCode, message: err.message });
    if (err instanceof SimulatorClosedError) return reply.code(503).send({ status: 503, message: err.message });
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'simulator vendor route failed');
    return reply.code(status).send({ status, message: status === 500 ? VENDOR_ERROR_TEXT[500] : err.message });
  });

  // Fault injection runs before anything else, like an overloaded front end would answer.
  app.addHook('preHandler', async (request, reply) => {
    const endpoint = VENDOR_ENDPOINTS.find((e) => `/vendor${e}` === request.routeOptions.url);
    const fault = endpoint ? faults.take(endpoint) : undefined;
    if (!fault) return;
    if (fault.delayMs !== undefined) await sleep(fault.delayMs, closing);
    if (fault.status !== undefined) {
      return reply
        .code(fault.status)
        .send(fault.body ?? { status: fault.status, message: VENDOR_ERROR_TEXT[fault.status] ?? 'Injected fault' });
    }
  });

  async function jsonCall<E extends VendorEndpoint>(endpoint: E, request: FastifyRequest): Promise<Body<E>> {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    verifyAuthorization(request, apiKey, raw);
    return parseBody(endpoint, raw.toString('utf8'), vendorNumber);
  }

  async function multipartCall<E extends '/document/doc/online' | '/document/doc/offline'>(
    endpoint: E,
    request: FastifyRequest,
  ): Promise<{ body: Body<E>; file: UploadedFile }> {
    const read = await readMultipart(request, maxFileBytes);
    verifyAuthorization(request, apiKey, read.data);
    const body = parseBody(endpoint, read.data, vendorNumber);
    if (read.problem) throw invalid(read.problem);
    if (read.tooLarge) throw new VendorError(450);
    if (!read.file || read.file.content.length === 0) throw invalid('missing or empty file field "document"');
    return { body, file: read.file };
  }

  app.post('/user/check/extended', async (request) => {
    const body = await jsonCall('/user/check/extended', request);
    return engine.checkUser(body.user);
  });

  app.post('/document/doc/online', async (request) => {
    const { body, file } = await multipartCall('/document/doc/online', request);
    return engine.createOnline(
      {
        publicKey: body.publicKey,
        urlCallback: body.urlCallback,
        description: body.document.description,
        coverage: body.document.coverage ?? 0,
        checksumDocument: body.document.checksumDocument,
        dateExpire: body.document.dateExpire,
        signatureType: body.signInfo.type,
        users: body.users,
      },
      file,
    );
  });

  app.post('/document/group/online', async (request) => {
    const read = await readGroupMultipart(request, maxFileBytes);
    verifyAuthorization(request, apiKey, read.data);
    const body = parseBody('/document/group/online', read.data, vendorNumber);
    if (read.problem) throw invalid(read.problem);
    if (read.tooLarge) throw new VendorError(450);
    return engine.createGroup(
      {
        publicKey: body.publicKey,
        urlCallback: body.urlCallback ?? '',
        groupDescription: body.groupDescription ?? '',
        coverage: body.coverage ?? 0,
        dateExpire: body.dateExpire,
        signatureType: body.signInfo.type,
        documents: body.documents.map((d) => ({
          description: d.description,
          optional: d.optional === 1 || d.optional === true,
          checksumDocument: d.checksumDocument,
        })),
        users: body.users,
      },
      read.files,
    );
  });

  app.post('/document/group/status', async (request) => {
    const body = await jsonCall('/document/group/status', request);
    return engine.groupStatus(body.transactionID);
  });

  app.post('/document/thread/status', async (request) => {
    const body = await jsonCall('/document/thread/status', request);
    return engine.threadStatus(body.threadID);
  });

  app.post('/document/group/download', async (request, reply: FastifyReply) => {
    const body = await jsonCall('/document/group/download', request);
    return sendZip(reply, body.transactionID, await engine.groupDownload(body.transactionID));
  });

  app.post('/document/doc/offline', async (request) => {
    const { body, file } = await multipartCall('/document/doc/offline', request);
    return engine.createOffline(
      {
        publicKey: body.publicKey,
        urlCallback: body.urlCallback,
        description: body.document.description,
        coverage: body.document.coverage ?? 0,
        checksumDocument: body.document.checksumDocument,
        signatureType: body.signInfo.type,
        user: { identificationNumber: body.user.identificationNumber, phone: body.user.phone, email: body.user.email },
      },
      file,
    );
  });

  app.post('/document/doc/offline/activate', async (request, reply: FastifyReply) => {
    const body = await jsonCall('/document/doc/offline/activate', request);
    engine.activate(body.transactionID, body.activationCode);
    return reply.code(204).send();
  });

  app.post('/document/doc/offline/activate/resend', async (request, reply: FastifyReply) => {
    const body = await jsonCall('/document/doc/offline/activate/resend', request);
    engine.resendCode(body.transactionID, body.phone);
    return reply.code(204).send();
  });

  app.post('/document/status', async (request) => {
    const body = await jsonCall('/document/status', request);
    return engine.status(body.transactionID);
  });

  app.post('/document/download', async (request, reply: FastifyReply) => {
    const body = await jsonCall('/document/download', request);
    return sendZip(reply, body.transactionID, await engine.download(body.transactionID));
  });

  app.post('/document/withdraw', async (request) => {
    const body = await jsonCall('/document/withdraw', request);
    return engine.withdraw(body.threadID);
  });
};

/** A download's answer: the ZIP as an attachment named after the transaction. */
function sendZip(reply: FastifyReply, transactionID: string, zip: Uint8Array): FastifyReply {
  return reply
    .header('content-type', 'application/zip')
    .header('content-disposition', `attachment; filename="${transactionID}.zip"`)
    .send(Buffer.from(zip));
}

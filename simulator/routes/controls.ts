// The test controls over HTTP, under /sim/api, as JSON. Documented in simulator/README.md.

import { HOSTILE_DOWNLOADS } from '../hostile-downloads';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { formatZodIssues } from '../../src/lib/zod-issues';
import type { SimulatorControls } from '../controls';
import { ControlError } from '../errors';
import type { TransactionView } from '../engine';
import { userFlagsSchema } from '../state';

export interface ControlRoutesOptions {
  controls: SimulatorControls;
  /** Shown by GET /sim/api/info (the signer page and humans read it). */
  info: Record<string, unknown>;
}

// ---- one schema per route ----

const idParams = z.object({ id: z.string().min(1) });
const listQuery = z.object({ signer: z.string().min(1).optional() });
const signBody = z
  .object({ skipDocuments: z.array(z.int().min(1)).max(20).optional() })
  .strict()
  .optional();
const rejectBody = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(1000) });
const statusBody = z.object({
  status: z.union([z.literal(5), z.literal(7), z.literal(8), z.literal(99)], { message: 'status must be 5, 7, 8 or 99' }),
});
const behaviorBody = z.object({
  target: z.string().min(1),
  mode: z.enum(['normal', 'drop', 'delay', 'duplicate']),
  delayMs: z.number().int().nonnegative().optional(),
  copies: z.number().int().min(1).max(20).optional(),
  times: z.number().int().min(1).optional(),
});
const failNextBody = z.object({
  endpoint: z.string().min(1),
  status: z.number().int().min(100).max(599).optional(),
  delayMs: z.number().int().nonnegative().optional(),
  count: z.number().int().min(1).optional(),
  body: z.unknown().optional(),
});
const nextDownloadBody = z.object({
  kind: z.enum(HOSTILE_DOWNLOADS),
  bytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .optional(),
});
const userParams = z.object({ identifier: z.string().min(1) });
const userBody = userFlagsSchema.partial().strict();

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ControlError('invalid', formatZodIssues(parsed.error, { root: '(body)' }));
  }
  return parsed.data;
}

/** A view as JSON: the signed file as Base64 when asked for, otherwise only its size and digest. */
function toJson(view: TransactionView, withContent: boolean): Record<string, unknown> {
  const { signedDocument, documents, ...rest } = view;
  const out: Record<string, unknown> = { ...rest };
  if (signedDocument) out.signedDocument = fileJson(signedDocument, withContent);
  // A group's documents, each with this signer's signed copy once signed.
  if (documents) {
    out.documents = documents.map(({ signedDocument: signedCopy, ...d }) =>
      signedCopy ? { ...d, signedDocument: fileJson(signedCopy, withContent) } : d,
    );
  }
  return out;
}

function fileJson(file: { filename: string; sha256: string; content: Uint8Array }, withContent: boolean): Record<string, unknown> {
  const doc: Record<string, unknown> = { filename: file.filename, sha256: file.sha256, size: file.content.length };
  if (withContent) doc.contentBase64 = Buffer.from(file.content).toString('base64');
  return doc;
}

export const controlRoutes: FastifyPluginAsync<ControlRoutesOptions> = async (app: FastifyInstance, { controls, info }) => {
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    if (err instanceof ControlError) return reply.code(err.httpStatus).send({ error: err.code, message: err.message });
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'simulator control failed');
    return reply.code(status).send({ error: status === 500 ? 'internal' : 'invalid', message: err.message });
  });

  app.get('/info', async () => info);

  app.get('/transactions', async (request) => {
    const { signer } = parse(listQuery, request.query);
    return controls.transactions(signer === undefined ? {} : { signer }).map((v) => toJson(v, false));
  });

  app.get('/transactions/:id', async (request) => {
    const { id } = parse(idParams, request.params);
    const view = controls.transaction(id);
    if (!view) throw new ControlError('not_found', `unknown transaction ${id}`);
    return toJson(view, true);
  });

  app.post('/transactions/:id/sign', async (request) => {
    const { id } = parse(idParams, request.params);
    const body = parse(signBody, request.body ?? undefined);
    return toJson(await controls.sign(id, body?.skipDocuments ? { skipDocuments: body.skipDocuments } : {}), false);
  });

  app.post('/transactions/:id/reject', async (request) => {
    const { id } = parse(idParams, request.params);
    const { reason } = parse(rejectBody, request.body);
    return toJson(await controls.reject(id, reason), false);
  });

  app.post('/transactions/:id/expire', async (request) => {
    const { id } = parse(idParams, request.params);
    return toJson(await controls.expire(id), false);
  });

  app.post('/transactions/:id/status', async (request) => {
    const { id } = parse(idParams, request.params);
    const { status } = parse(statusBody, request.body);
    return toJson(await controls.setStatus(id, status), false);
  });

  app.get('/signers', async () => controls.signers());

  app.post('/callback-behavior', async (request, reply) => {
    const { target, ...behavior } = parse(behaviorBody, request.body);
    controls.callbackBehavior(target, behavior);
    return reply.code(204).send();
  });

  app.get('/callbacks', async () => controls.callbacks());

  app.post('/fail-next', async (request, reply) => {
    const { endpoint, ...spec } = parse(failNextBody, request.body);
    controls.failNext(endpoint, spec);
    return reply.code(204).send();
  });

  app.post('/next-download', async (request, reply) => {
    const { kind, bytes } = parse(nextDownloadBody, request.body);
    controls.nextDownload(kind, bytes !== undefined ? { bytes } : {});
    return reply.code(204).send();
  });

  app.delete('/fail-next', async (_request, reply) => {
    controls.clearFaults();
    return reply.code(204).send();
  });

  app.put('/users/:identifier', async (request) => {
    const { identifier } = parse(userParams, request.params);
    return controls.setUser(identifier, parse(userBody, request.body ?? {}));
  });
};

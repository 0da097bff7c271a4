// Zod schemas for what the client accepts from its callers and what Evrotrust answers.
//
// Responses: tolerant where Evrotrust is known to be loose (ids as string or integer, flags as 0/1 or
// booleans, null vs missing text), strict where a decision depends on the value.
// Requests: structural checks only (types, presence). Business rules (coverage values, description
// length, identifier formats, file types) stay with Evrotrust, the authority; its 4xx answers are
// mapped to typed errors.
import { z } from 'zod';

// ---------- shared pieces ----------

/** 0/1 or a boolean, normalized to a boolean. */
export const flagSchema = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1);

/** An Evrotrust id (threadID / transactionID): a non-empty string or a safe integer, normalized to a string. */
export const idSchema = z
  .union([z.string().min(1), z.number().int().nonnegative()])
  .transform((v) => String(v));

/** A status code: an integer, possibly sent as a numeric string. Any value is accepted: unknown codes are tolerated. */
export const statusCodeSchema = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);

const optionalText = z.string().nullish();

// ---------- responses ----------

/** `/user/check/extended` 200. `isRegistered` and `isReadyToSign` drive decisions; the rest is informative. */
export const userCheckResponseSchema = z.object({
  isRegistered: flagSchema,
  isIdentified: flagSchema.optional(),
  isRejected: flagSchema.optional(),
  rejectReason: optionalText,
  isSupervised: flagSchema.optional(),
  isReadyToSign: flagSchema,
  hasConfirmedPhone: flagSchema.optional(),
  hasConfirmedEmail: flagSchema.optional(),
});

/** One signer's entry in the `/document/doc/online` answer (Evrotrust echoes the identifiers; country may be an integer). */
export const transactionEntrySchema = z.object({
  transactionID: idSchema,
  identificationNumber: optionalText,
  country: z.union([z.string(), z.number()]).nullish(),
  email: optionalText,
  phone: optionalText,
});

/**
 * `/document/doc/online` 200. The top-level `transactionID` Evrotrust also sends is not read (nor
 * validated): per-signer ids come from `transactions`.
 */
export const sendOnlineResponseSchema = z.object({
  threadID: idSchema,
  transactions: z.array(transactionEntrySchema).min(1),
});

/** `/document/doc/offline` 200. */
export const sendOfflineResponseSchema = z.object({
  transactionID: idSchema,
});

/** `/document/status` 200. */
export const statusResponseSchema = z.object({
  status: statusCodeSchema,
  isProcessing: flagSchema,
  rejectReason: optionalText,
});

/** `/document/withdraw` 200: 1 withdrawn, 2 not withdrawn, 3 already withdrawn. */
export const withdrawResponseSchema = z.object({
  status: statusCodeSchema.pipe(z.union([z.literal(1), z.literal(2), z.literal(3)])),
});

// ---------- requests (what callers give the client) ----------

const nonEmpty = z.string().min(1);

/** A signer or a user to check: at least one of identificationNumber, phone, email. */
export const signerSchema = z
  .object({
    identificationNumber: nonEmpty.optional(),
    country: nonEmpty.optional(),
    phone: nonEmpty.optional(),
    email: nonEmpty.optional(),
  })
  .refine((s) => s.identificationNumber !== undefined || s.phone !== undefined || s.email !== undefined, {
    message: 'needs at least one of identificationNumber, phone, email',
  });

export const signInfoSchema = z.object({ type: nonEmpty, algorithm: nonEmpty });

const documentBase = {
  filename: nonEmpty,
  content: z.instanceof(Uint8Array).refine((c) => c.byteLength > 0, { message: 'must not be empty' }),
  description: z.string(),
  coverage: z.number().int().nonnegative().optional(),
};

/**
 * `dateExpire`: a Date, or Unix seconds (the unit on the wire). A number that only makes sense as
 * milliseconds (after year 5000) is refused rather than guessed.
 */
export const dateExpireSchema = z.union([
  z.date().refine((d) => !Number.isNaN(d.getTime()), { message: 'invalid date' }),
  z.number().int().positive().max(99_999_999_999, { message: 'must be Unix seconds, not milliseconds' }),
]);

export const sendOnlineInputSchema = z.object({
  document: z.object({
    ...documentBase,
    dateExpire: dateExpireSchema,
    preview: z.union([z.boolean(), z.literal(0), z.literal(1)]).optional(),
  }),
  signers: z.array(signerSchema).min(1),
  urlCallback: z.url(),
  signInfo: signInfoSchema.optional(),
});

export const sendOfflineInputSchema = z.object({
  document: z.object(documentBase),
  signer: z.object({
    identificationNumber: nonEmpty,
    documentNumber: nonEmpty.optional(),
    phone: nonEmpty,
    email: nonEmpty.optional(),
  }),
  urlCallback: z.url(),
  signInfo: signInfoSchema.optional(),
});

// ---------- issue formatting ----------

/** `transactions[0].transactionID` from zod's path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * The first issue of a failed parse as `{ field, problem }`. Zod's messages name expected and received
 * types, never the received value, so this is safe to log; we still keep only path and message.
 */
export function firstIssue(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0];
  if (!issue) return { field: '(root)', problem: 'invalid' };
  return { field: formatPath(issue.path), problem: issue.message };
}

// Zod schemas for what the client accepts from its callers and what Evrotrust answers.
//
// Responses: tolerant where Evrotrust is known to be loose (ids as string or integer, flags as 0/1 or
// booleans, null vs missing text), strict where a decision depends on the value.
// Requests: structure, plus the two rules that decide what we send (signInfo.type from the Swagger's
// list, the OTP phone pattern "+[0-9]"). Other business rules (coverage values, description length,
// identifier formats, file types) stay with Evrotrust, the authority; its 4xx answers are mapped to
// typed errors. Facts: docs/evrotrust.md.
import { z } from 'zod';
import { hasIdentifier, signerIdentitySchema } from '../lib/signer';

// ---------- shared pieces ----------

/** 0/1 or a boolean, normalized to a boolean. */
export const flagSchema = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1);

/** An Evrotrust id (threadID / transactionID): a non-empty string or a safe integer, normalized to a string. */
export const idSchema = z.union([z.string().min(1), z.number().int().nonnegative()]).transform((v) => String(v));

/** A status code: an integer, possibly sent as a numeric string. Any value is accepted: unknown codes are tolerated. */
export const statusCodeSchema = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

const optionalText = z.string().nullish();

// ---------- responses ----------

/**
 * `rejectReason` of a user check: text, an integer code (the help-portal example answers `0`), or
 * null/absent. Normalized to `{ text, code }`: `text` is the string form (an integer `0` becomes
 * `"0"`), `code` the integer when there is one (docs/evrotrust.md "User check").
 */
export const rejectReasonSchema = z
  .union([z.string(), z.number().int(), z.null()])
  .optional()
  .transform((v): { text: string | null; code: number | null } => {
    if (v === undefined || v === null) return { text: null, code: null };
    if (typeof v === 'number') return { text: String(v), code: v };
    return { text: v, code: /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : null };
  });

/**
 * `/user/check/extended` 200. `isRegistered` and `isReadyToSign` drive decisions; the rest is informative.
 * Two published shapes: the 2022 Swagger (`ResultUserExtendedCheck`: isRegistered, isIdentified,
 * isSupervised, hasConfirmedPhone, hasConfirmedEmail, booleans) and the help portal / newer clients
 * (adds isRejected, rejectReason, isReadyToSign; 0/1 integers). `isReadyToSign` is derived when
 * absent: registered AND identified AND not rejected (docs/evrotrust.md "User check").
 */
export const userCheckResponseSchema = z
  .object({
    isRegistered: flagSchema,
    isIdentified: flagSchema.optional(),
    isRejected: flagSchema.optional(),
    rejectReason: rejectReasonSchema,
    isSupervised: flagSchema.optional(),
    isReadyToSign: flagSchema.optional(),
    hasConfirmedPhone: flagSchema.optional(),
    hasConfirmedEmail: flagSchema.optional(),
  })
  .transform((r) => ({
    ...r,
    isReadyToSignDerived: r.isReadyToSign === undefined,
    isReadyToSign: r.isReadyToSign ?? deriveReadyToSign(r),
  }));

/** The rule for answers without `isReadyToSign`: an unknown `isIdentified` counts as not identified. */
export function deriveReadyToSign(r: { isRegistered: boolean; isIdentified?: boolean; isRejected?: boolean }): boolean {
  return r.isRegistered && r.isIdentified === true && r.isRejected !== true;
}

/**
 * One signer's entry in the `/document/doc/online` answer. The wire shape, not SignerIdentity
 * (src/lib/signer.ts): Evrotrust echoes the identifiers as null when absent, and country may be an integer.
 */
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

/**
 * `/document/thread/status` 200 (Swagger ResultDocumentThreadStatus): one entry per signer, each with
 * the status of its document transactions; for a group also the signer's group transaction and its
 * status (`groupTransactionID`, `groupStatus`, `groupIsProcessing`, "returned only if group of
 * documents has been sent").
 */
export const threadStatusResponseSchema = z.object({
  statuses: z.array(
    z.object({
      groupTransactionID: idSchema.nullish(),
      groupIsProcessing: flagSchema.nullish(),
      groupStatus: statusCodeSchema.nullish(),
      rejectReason: optionalText,
      documents: z.array(z.object({ transactionID: idSchema, isProcessing: flagSchema.nullish(), status: statusCodeSchema })).nullish(),
    }),
  ),
});

/** `/document/withdraw` 200: 1 withdrawn, 2 not withdrawn, 3 already withdrawn. */
export const withdrawResponseSchema = z.object({
  status: statusCodeSchema.pipe(z.union([z.literal(1), z.literal(2), z.literal(3)])),
});

// ---------- requests (what callers give the client) ----------

const nonEmpty = z.string().min(1);

/**
 * A signer or a user to check (src/lib/signer.ts): at least one of identificationNumber, phone,
 * email. The client sends exactly one of them (see `pickIdentifier` in client.ts); `country` only
 * qualifies identificationNumber (Swagger `/document/doc/online`: "used only if identificationNumber is send").
 */
export const signerSchema = signerIdentitySchema
  .extend({
    identificationNumber: nonEmpty.optional(),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'an ISO 3166-1 alpha-2 code such as BG')
      .optional(),
    phone: nonEmpty.optional(),
    email: nonEmpty.optional(),
  })
  .refine(hasIdentifier, { message: 'needs at least one of identificationNumber, phone, email' });

/** Signature types of the Swagger (`signInfo.type`); XML3 is sent by DigitalSofia for XML, though undocumented. */
export const SIGNATURE_TYPES = ['PDF1', 'PDF2', 'XML1', 'XML2', 'XML3', 'CAD1', 'CAD2'] as const;
export type SignatureType = (typeof SIGNATURE_TYPES)[number];
export const signatureTypeSchema = z.enum(SIGNATURE_TYPES, { message: `one of ${SIGNATURE_TYPES.join(', ')}` });

/** Coverage amounts in euro the Swagger allows; 0 means unlimited. */
export const COVERAGES = [0, 500, 20000, 100000, 250000] as const;
export const coverageSchema = z
  .number()
  .int()
  .refine((n) => (COVERAGES as readonly number[]).includes(n), { message: `one of ${COVERAGES.join(', ')} (euro; 0 = unlimited)` });

/** An explicit signInfo on a send; `algorithm` defaults to the client's (SHA256). */
export const signInfoSchema = z.object({ type: signatureTypeSchema, algorithm: nonEmpty.optional() });

const documentBase = {
  filename: nonEmpty,
  content: z.instanceof(Uint8Array).refine((c) => c.byteLength > 0, { message: 'must not be empty' }),
  // Value rules (4000 characters, the coverage list) stay with Evrotrust, which answers 400/454.
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

/** Swagger `/document/group/online`: "The count of documents must be between 2 and 20". */
export const GROUP_MIN_DOCUMENTS = 2;
export const GROUP_MAX_DOCUMENTS = 20;

export const sendGroupOnlineInputSchema = z.object({
  documents: z
    .array(
      z.object({
        ...documentBase,
        optional: z.boolean().optional(),
        preview: z.union([z.boolean(), z.literal(0), z.literal(1)]).optional(),
      }),
    )
    .min(GROUP_MIN_DOCUMENTS, { message: `between ${GROUP_MIN_DOCUMENTS} and ${GROUP_MAX_DOCUMENTS} documents` })
    .max(GROUP_MAX_DOCUMENTS, { message: `between ${GROUP_MIN_DOCUMENTS} and ${GROUP_MAX_DOCUMENTS} documents` })
    .refine((docs) => docs[0]?.optional !== true, {
      message: 'the first document must not be optional (Swagger: "The first document must always be optional=0")',
    }),
  groupDescription: z.string(),
  dateExpire: dateExpireSchema,
  coverage: z.number().int().nonnegative().optional(),
  signers: z.array(signerSchema).min(1),
  urlCallback: z.url(),
  signInfo: signInfoSchema.optional(),
});

/** `/document/group/online` 200 (Swagger ResultDocumentTransactionGroup): the thread and one entry per signer. */
export const sendGroupOnlineResponseSchema = z.object({
  threadID: idSchema,
  transactions: z.array(transactionEntrySchema).min(1),
});

/** The Swagger's pattern for the OTP phone ("+[0-9]"): a leading + and digits only (E.164, up to 15). */
export const OTP_PHONE_PATTERN = /^\+[0-9]{6,15}$/;

export const sendOfflineInputSchema = z.object({
  document: z.object(documentBase),
  signer: z.object({
    identificationNumber: nonEmpty,
    documentNumber: nonEmpty.optional(),
    phone: z.string().regex(OTP_PHONE_PATTERN, 'must match the Swagger pattern "+[0-9]": a leading + and 6-15 digits, no spaces'),
    email: nonEmpty.optional(),
  }),
  urlCallback: z.url(),
  signInfo: signInfoSchema.optional(),
});

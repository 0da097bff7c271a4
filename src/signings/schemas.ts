// What a caller may send to start a signing, validated the same way for the HTTP API, the
// TypeScript client and the CLI. Messages say what to fix without echoing personal data.
import { z } from 'zod';
import { describeBounds, parseDuration, type DurationBounds } from '../lib/duration';
import { SIGNATURE_TYPES } from '../evrotrust/schemas';
import { hasIdentifier, signerIdentitySchema } from '../lib/signer';
import { notifyUrlProblem } from '../notify/url';

/**
 * Bounds of `expiresIn` and SIGNING_DEFAULT_EXPIRY. Evrotrust documents no range for `dateExpire`
 * (its Swagger says only "timestamp"; the range is one of the open questions), so these are ours: at least 30 s, because the send to Evrotrust
 * may take up to its 20 s activity timeout and a `dateExpire` already past when it arrives is
 * refused; at most 30 d, a month being far beyond any signing a person is asked to do, and a bound
 * on how long a workflow keeps polling. Ask Evrotrust before widening it.
 */
export const EXPIRY_BOUNDS: DurationBounds = { minMs: 30_000, maxMs: 30 * 86_400_000 };
export const EXPIRES_IN_MESSAGE = `expiresIn must be a whole-unit duration ${describeBounds(EXPIRY_BOUNDS)}, e.g. 3d`;

const signer = signerIdentitySchema
  .extend({
    identificationNumber: z
      .string()
      .regex(/^\d{10}$/, 'identificationNumber must be the 10 digits of an ЕГН/ЛНЧ')
      .optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'country must be an ISO 3166 alpha-2 code such as BG')
      .optional(),
    phone: z
      .string()
      .regex(/^\+?\d{6,15}$/, 'phone must be digits in international form, e.g. +359888123456')
      .optional(),
    email: z.email('email must be an e-mail address').optional(),
  })
  .strict()
  .refine(hasIdentifier, 'each signer needs an identificationNumber, a phone or an email');

// The start request's fields apart from the document's content, shared by both forms below.
const filename = z
  .string()
  .trim()
  .min(1, 'document.filename is required')
  .max(255, 'document.filename is at most 255 characters')
  .refine((n) => !/[\\/\u0000-\u001f]/.test(n), 'document.filename must be a plain file name without slashes');
const description = z.string().max(4000, 'document.description is at most 4000 characters').optional();
const requestFields = {
  signers: z.array(signer).min(1, 'signers needs at least one signer').max(20, 'at most 20 signers'),
  method: z.enum(['app', 'otp'], 'method must be "app" or "otp"').default('app'),
  expiresIn: z
    .string()
    // Only the form here; the bounds are checked by SigningService (EXPIRY_BOUNDS unless its options say otherwise).
    .refine((s) => parseDuration(s) !== undefined, EXPIRES_IN_MESSAGE)
    .optional(),
  reference: z.string().min(1).max(200, 'reference is at most 200 characters').optional(),
  // Evrotrust's signature types (docs/evrotrust.md); absent: picked by file type from configuration.
  signatureType: z
    .enum(SIGNATURE_TYPES, `signatureType must be one of ${SIGNATURE_TYPES.join(', ')} (PDF1/PDF2: PAdES baseline / long-term)`)
    .optional(),
  // Where the final state is POSTed (src/notify/); the message never quotes the URL (it may carry a token).
  notifyUrl: z
    .string()
    .trim()
    .max(2048, 'notifyUrl is at most 2048 characters')
    .superRefine((u, ctx) => {
      const problem = notifyUrlProblem(u);
      if (problem) ctx.addIssue({ code: 'custom', message: `notifyUrl: ${problem}` });
    })
    .optional(),
};
function otpRule(v: { method: 'app' | 'otp'; signers: unknown[] }, ctx: z.RefinementCtx): void {
  if (v.method === 'otp') {
    if (v.signers.length !== 1) ctx.addIssue({ code: 'custom', path: ['signers'], message: 'an OTP signing has exactly one signer' });
    const s = v.signers[0] as { identificationNumber?: string; phone?: string } | undefined;
    if (s && (!s.identificationNumber || !s.phone))
      ctx.addIssue({ code: 'custom', path: ['signers', 0], message: 'an OTP signer needs identificationNumber and phone' });
  }
}

/** Evrotrust's group endpoint takes 2–20 documents (Swagger /document/group/online). */
export const MIN_GROUP_DOCUMENTS = 2;
export const MAX_GROUP_DOCUMENTS = 20;

const contentBase64 = z
  .string()
  .min(1, 'document.contentBase64 is required')
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'document.contentBase64 must be Base64');
const content = z
  .custom<Uint8Array>((c) => c instanceof Uint8Array, 'document.content must be a Uint8Array or Buffer')
  .refine((c) => c.byteLength > 0, 'document.content is empty');
// A group's document may be optional (the signer may leave it unsigned), but never the first one.
const optional = z.boolean('optional must be true or false').optional();

function documentsArray<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .min(MIN_GROUP_DOCUMENTS, `documents needs ${MIN_GROUP_DOCUMENTS} to ${MAX_GROUP_DOCUMENTS} documents; send one as "document"`)
    .max(MAX_GROUP_DOCUMENTS, `documents holds at most ${MAX_GROUP_DOCUMENTS} documents (Evrotrust's limit for one signing)`)
    .optional();
}

/** Exactly one of `document` and `documents`; a group is signed in the app only (Evrotrust has no OTP group). */
function documentRule(
  v: { document?: unknown; documents?: { optional?: boolean | undefined }[]; method: 'app' | 'otp' },
  ctx: z.RefinementCtx,
): void {
  if ((v.document === undefined) === (v.documents === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['document'], message: 'give exactly one of document (one file) and documents (2 to 20 files)' });
  }
  if (v.documents) {
    if (v.method === 'otp')
      ctx.addIssue({ code: 'custom', path: ['method'], message: 'documents (a group) can only be signed with method "app"' });
    if (v.documents[0]?.optional === true)
      ctx.addIssue({ code: 'custom', path: ['documents', 0, 'optional'], message: 'the first document cannot be optional' });
  }
}

/** The HTTP body of POST /v1/signings: the document's content (or each of several documents') in Base64. */
export const startSigningSchema = z
  .object({
    document: z.object({ filename, contentBase64, description }).strict().optional(),
    documents: documentsArray(z.object({ filename, contentBase64, description, optional }).strict()),
    ...requestFields,
  })
  .strict()
  .superRefine(otpRule)
  .superRefine(documentRule);

/** What SigningService.start takes (the route decodes the Base64; the client passes the caller's bytes). */
export const startSigningBytesSchema = z
  .object({
    document: z.object({ filename, content, description }).strict().optional(),
    documents: documentsArray(z.object({ filename, content, description, optional }).strict()),
    ...requestFields,
  })
  .strict()
  .superRefine(otpRule)
  .superRefine(documentRule);

export type StartSigningRequest = z.input<typeof startSigningSchema>;
export type StartSigningInput = z.output<typeof startSigningSchema>;
export type StartSigningBytesRequest = z.input<typeof startSigningBytesSchema>;
export type StartSigningBytesInput = z.output<typeof startSigningBytesSchema>;

export const otpSchema = z.object({ code: z.string().regex(/^\d{4,8}$/, 'code must be the 4 to 8 digits of the SMS') }).strict();

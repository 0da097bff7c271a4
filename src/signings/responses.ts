// The answers of the business API, as zod schemas: the OpenAPI description at /docs is generated
// from them (src/http/openapi.ts), and test/http/openapi.test.ts checks real answers against them,
// so the documentation cannot drift from what the routes send (strict: an undocumented field fails it).
import { z } from 'zod';
import type { SignerStatus, SigningStatus } from '../../workflows/definitions';

const signingStatuses = ['pending', 'signed', 'rejected', 'expired', 'withdrawn', 'failed'] as const satisfies readonly SigningStatus[];
const signerStatuses = [
  'pending',
  'processing',
  'onHold',
  'signed',
  'rejected',
  'expired',
  'withdrawn',
  'failed',
  'undeliverable',
  'faceRecognitionFailed',
  'unknown',
] as const satisfies readonly SignerStatus[];

const instant = z.iso.datetime({ offset: true });

export const signingResponseSchema = z
  .object({
    id: z.string(),
    status: z.enum(signingStatuses),
    method: z.enum(['app', 'otp']),
    reference: z.string().optional(),
    signatureType: z.string().optional(),
    signers: z.array(
      z.strictObject({
        transactionId: z.string().nullable().meta({ description: 'null until Evrotrust has the request' }),
        status: z.enum(signerStatuses),
        rejectReason: z.string().optional(),
        readiness: z.string().optional().meta({ description: 'why the signer cannot sign in the app yet (user/check)' }),
      }),
    ),
    threadId: z.string().optional(),
    rejectReason: z.string().optional(),
    failureReason: z.string().optional(),
    createdAt: instant,
    expiresAt: instant,
    finalizedAt: instant.optional(),
    signedDocument: z
      .object({ filename: z.string(), sha256: z.string(), size: z.int(), deletedAt: instant.optional() })
      .optional()
      .meta({ description: 'the signed file (GET …/signed-document); with several signers, the last one signed' }),
    personalDataErasedAt: instant.optional().meta({ description: "when the signers' personal data was deleted (PERSONAL_DATA_RETENTION)" }),
    signedDocuments: z
      .array(z.strictObject({ transactionId: z.string(), filename: z.string(), sha256: z.string(), size: z.int() }))
      .optional()
      .meta({ description: 'one per signer, when there are several (one document only)' }),
    documents: z
      .array(
        z.strictObject({
          index: z.int().min(1).meta({ description: '1-based: GET …/signed-documents/{index}' }),
          filename: z.string(),
          description: z.string().optional(),
          optional: z.boolean().meta({ description: 'the signer may leave it unsigned' }),
          sha256: z.string().meta({ description: 'of the document sent' }),
          size: z.int(),
          signedDocument: z
            .strictObject({ filename: z.string(), sha256: z.string(), size: z.int(), deletedAt: instant.optional() })
            .optional()
            .meta({ description: 'its signed copy (with several signers, the last one signed: it carries every signature)' }),
        }),
      )
      .optional()
      .meta({ description: 'a group signing (started with `documents`): every document, in order; absent for one document' }),
  })
  .meta({
    examples: [
      {
        id: '3f0c9a52-5d0b-4c39-9d7e-2b1f8a6c4e11',
        status: 'pending',
        method: 'app',
        reference: 'contract-2026-0042',
        signers: [{ transactionId: '5d8b1a30c7e94f0b', status: 'pending' }],
        threadId: '9e2f7c41a0b3',
        createdAt: '2026-12-01T09:30:00.000Z',
        expiresAt: '2026-12-08T09:30:00.000Z',
      },
    ],
  });

export const startedResponseSchema = z
  .object({ id: z.string(), status: z.enum(signingStatuses) })
  .meta({ examples: [{ id: '3f0c9a52-5d0b-4c39-9d7e-2b1f8a6c4e11', status: 'pending' }] });

export const eventsResponseSchema = z
  .object({
    id: z.string(),
    events: z.array(z.strictObject({ type: z.string(), at: instant, data: z.record(z.string(), z.unknown()).optional() })),
  })
  .meta({
    examples: [
      {
        id: '3f0c9a52-5d0b-4c39-9d7e-2b1f8a6c4e11',
        events: [
          { type: 'created', at: '2026-12-01T09:30:00.000Z', data: { method: 'app', signers: 1 } },
          { type: 'sent', at: '2026-12-01T09:30:01.000Z', data: { threadId: '9e2f7c41a0b3', transactionIds: ['5d8b1a30c7e94f0b'] } },
        ],
      },
    ],
  });

export const otpAcceptedResponseSchema = z.strictObject({ id: z.string(), accepted: z.literal(true) });
export const otpResentResponseSchema = z.strictObject({ id: z.string(), resent: z.literal(true) });

export const signingPageResponseSchema = z.strictObject({
  items: z.array(signingResponseSchema).meta({ description: 'newest first' }),
  nextCursor: z.string().nullable().meta({ description: 'pass as cursor for the next page; null on the last page' }),
});

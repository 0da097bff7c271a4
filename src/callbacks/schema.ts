// What a callback body must be (docs/evrotrust.md "Callbacks"): `{transactionID: string | integer,
// status: integer, rejectReason?: string}`. Unknown extra fields are accepted and kept: Evrotrust may
// add fields. The JSON itself is parsed by src/http/json.ts (no `__proto__` or `constructor` keys).
import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { InvalidCallbackError } from './errors';
import { formatZodIssues } from '../lib/zod-issues';

export const callbackBodySchema = z.looseObject({
  transactionID: z.union(
    [
      z
        .string()
        .max(256, 'transactionID must be at most 256 characters')
        .refine((s) => s.trim() !== '', 'transactionID must not be empty'),
      // Integers beyond 2^53 were already rounded by JSON parsing: such an id must come as a string.
      z.int('transactionID must be a string or an integer (send large ids as strings)'),
    ],
    'transactionID must be a string or an integer',
  ),
  status: z.int('status must be an integer'),
  // null is what Evrotrust's status API uses for "no reason"; treat it as absent.
  rejectReason: z.string('rejectReason must be a string').nullish(),
});

export type CallbackBody = z.output<typeof callbackBodySchema>;

export const KNOWN_FIELDS = new Set(['transactionID', 'status', 'rejectReason']);

/** A Fastify validator compiler for routes whose schemas are zod schemas. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: new InvalidCallbackError(formatZodIssues(result.error, { all: true })) };
  };

// What a callback body must be (docs/evrotrust.md "Callbacks"): `{transactionID: string | integer,
// status: integer, rejectReason?: string}`. Unknown extra fields are accepted and kept: Evrotrust may
// add fields. The JSON is parsed here, refusing `__proto__` and `constructor` keys at any depth.
import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { BadJsonError, InvalidCallbackError } from './errors';

export const callbackBodySchema = z.looseObject({
  transactionID: z.union([
    z.string().max(256, 'transactionID must be at most 256 characters').refine((s) => s.trim() !== '', 'transactionID must not be empty'),
    // Integers beyond 2^53 were already rounded by JSON parsing: such an id must come as a string.
    z.int('transactionID must be a string or an integer (send large ids as strings)'),
  ], 'transactionID must be a string or an integer'),
  status: z.int('status must be an integer'),
  // null is what Evrotrust's status API uses for "no reason"; treat it as absent.
  rejectReason: z.string('rejectReason must be a string').nullish(),
});

export type CallbackBody = z.output<typeof callbackBodySchema>;

export const KNOWN_FIELDS = new Set(['transactionID', 'status', 'rejectReason']);

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/** JSON.parse, refusing prototype-pollution keys anywhere (a reviver sees every key, nested ones too). */
export function parseCallbackJson(text: string): unknown {
  let forbidden: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(text, function reviver(key: string, v: unknown) {
      if (FORBIDDEN_KEYS.has(key)) forbidden ??= key;
      return v;
    });
  } catch (err) {
    throw new BadJsonError(err instanceof Error ? err.message : 'unparseable');
  }
  if (forbidden !== undefined) throw new BadJsonError(`the key "${forbidden}" is not allowed`);
  return value;
}

/** A Fastify validator compiler for routes whose schemas are zod schemas. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => (data: unknown) => {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data };
  const issues = result.error.issues.map((i) => (i.path.length > 0 && !i.message.startsWith(String(i.path[0])) ? `${i.path.join('.')}: ${i.message}` : i.message));
  return { error: new InvalidCallbackError(issues.join('; ')) };
};

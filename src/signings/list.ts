// Listing signings (GET /v1/signings, the client's `list`, the CLI's `list`): the query's validation,
// the normalized filter, and the cursor. The store runs the query (SigningStore.listPage).
//
// Decisions:
// - Newest first: createdAt descending, then _id descending, so signings created in the same
//   millisecond still have one order and a page boundary between them loses none.
// - Keyset pagination: the cursor is the last item's (createdAt, _id), so a page costs the same
//   however deep it is, and signings created while a caller pages (always newer than its cursor)
//   neither shift nor repeat what is still to come.
// - The cursor carries a short digest of the normalized filter (statuses sorted and deduplicated,
//   reference, the created range as instants): a cursor sent with other filters would page through
//   a listing it was never part of, so it is refused with 400 instead. `limit` is not part of it:
//   a caller may change the page size between pages.
// - The created range is half-open, createdAfter ≤ createdAt < createdBefore, so adjacent windows
//   (…&createdBefore=T, then createdAfter=T&…) cover every signing exactly once.
import { z } from 'zod';
import type { SigningStatus } from '../../workflows/definitions';
import { FINAL_STATUSES } from '../../workflows/definitions';
import { sha256Hex } from '../lib/hash';
import { formatZodIssues } from '../lib/zod-issues';
import { InvalidCursorError, InvalidSigningRequestError } from './errors';
import { toResponse, type SigningResponse } from './service';
import type { SigningStore } from './store';

export const SIGNING_STATUSES: readonly SigningStatus[] = ['pending', ...FINAL_STATUSES];
export const LIST_LIMIT = { min: 1, max: 200, default: 50 } as const;
const QUERY_KEYS = ['status', 'reference', 'createdAfter', 'createdBefore', 'limit', 'cursor'] as const;

/** What a caller may ask for (the query string as Fastify parses it, or the client's typed filter). */
export interface ListSigningsRequest {
  /** One status or several (a signing matches any of them); comma-separated in a string too. */
  status?: SigningStatus | readonly SigningStatus[] | string;
  /** Exactly the `reference` the signing was started with. */
  reference?: string;
  /** ISO-8601 instant (or a Date): signings created at or after it. */
  createdAfter?: string | Date;
  /** ISO-8601 instant (or a Date): signings created before it. */
  createdBefore?: string | Date;
  /** Page size, 1 to 200; default 50. */
  limit?: number | string;
  /** The `nextCursor` of the previous page, unchanged, with the same filters. */
  cursor?: string;
}

/** The filter as the store runs it: statuses always given (all of them when the caller named none). */
export interface ListFilter {
  statuses: SigningStatus[];
  reference?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

/** Where the previous page ended: its last signing. */
export interface ListPosition {
  createdAt: Date;
  id: string;
}

export interface ListQuery {
  filter: ListFilter;
  limit: number;
  after: ListPosition | null;
}

export interface SigningPage {
  items: SigningResponse[];
  /** Pass it as `cursor` (with the same filters) for the next page; null on the last page. */
  nextCursor: string | null;
}

const STATUS_MESSAGE = `status must be one or more of ${SIGNING_STATUSES.join(', ')} (repeat status=… or separate them with commas)`;
const LIMIT_MESSAGE = `limit must be a whole number from ${LIST_LIMIT.min} to ${LIST_LIMIT.max}`;
const instantMessage = (name: string) => `${name} must be an ISO-8601 instant with a time zone, e.g. 2026-12-01T00:00:00Z`;
const once = (name: string) => `${name} must be given once`;

/** An instant: a Date as it is, a string as an ISO-8601 date-time with Z or an offset. */
const instant = (name: string) =>
  z.union([z.date(), z.string()], instantMessage(name)).transform((v, ctx) => {
    if (v instanceof Date) {
      if (!Number.isNaN(v.getTime())) return v;
    } else if (z.iso.datetime({ offset: true }).safeParse(v).success) {
      const d = new Date(v);
      if (!Number.isNaN(d.getTime())) return d;
    }
    ctx.addIssue({ code: 'custom', message: instantMessage(name) });
    return z.NEVER;
  });

/** A parameter given once: a repeated one (`?reference=a&reference=b`) is refused, not silently picked. */
const oneValue = <T extends z.ZodType>(name: string, schema: T) =>
  z.preprocess((v, ctx) => {
    if (!Array.isArray(v)) return v;
    if (v.length === 1) return v[0] as unknown;
    ctx.addIssue({ code: 'custom', message: once(name) });
    return z.NEVER;
  }, schema);

const statusList = z
  .union([z.string(), z.array(z.string(STATUS_MESSAGE))], STATUS_MESSAGE)
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()))
  .pipe(z.array(z.enum(SIGNING_STATUSES as [SigningStatus, ...SigningStatus[]], STATUS_MESSAGE)).min(1, STATUS_MESSAGE));

const limit = z.preprocess(
  (v) => (typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : v),
  z.number(LIMIT_MESSAGE).int(LIMIT_MESSAGE).min(LIST_LIMIT.min, LIMIT_MESSAGE).max(LIST_LIMIT.max, LIMIT_MESSAGE),
);

export const listQuerySchema = z
  .strictObject(
    {
      status: statusList
        .optional()
        .meta({ description: 'one or more statuses: repeat status=… or separate with commas', examples: ['pending'] }),
      reference: oneValue(
        'reference',
        z.string('reference must be a string').min(1, 'reference must not be empty').max(200, 'reference is at most 200 characters'),
      )
        .optional()
        .meta({ description: 'exactly the reference given at start' }),
      createdAfter: oneValue('createdAfter', instant('createdAfter'))
        .optional()
        .meta({ description: 'ISO-8601 instant with a time zone; created at or after it', examples: ['2026-11-30T00:00:00Z'] }),
      createdBefore: oneValue('createdBefore', instant('createdBefore'))
        .optional()
        .meta({ description: 'ISO-8601 instant with a time zone; created before it' }),
      limit: oneValue('limit', limit)
        .optional()
        .meta({ description: `page size, ${LIST_LIMIT.min}–${LIST_LIMIT.max} (default ${LIST_LIMIT.default})` }),
      cursor: oneValue(
        'cursor',
        z.string('cursor must be a string').min(1, 'cursor must not be empty').max(1000, 'cursor is at most 1000 characters'),
      )
        .optional()
        .meta({ description: "the previous page's nextCursor, with the same filters" }),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown parameter ${issue.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}; the parameters are ${QUERY_KEYS.join(', ')}`
          : undefined,
    },
  )
  .refine((q) => !q.createdAfter || !q.createdBefore || q.createdAfter.getTime() < q.createdBefore.getTime(), {
    message: 'createdAfter must be before createdBefore',
    path: ['createdAfter'],
  });

// ---- the cursor: base64url JSON { v, t: createdAt in ms, i: _id, f: filter digest } ----

const cursorSchema = z.strictObject({
  v: z.literal(1),
  t: z.number().int().min(0).max(8.64e15),
  i: z.string().min(1).max(200),
  f: z.string().regex(/^[0-9a-f]{16}$/),
});

/** A short digest of the normalized filter, so a cursor is only taken back with the same filters. */
export function filterDigest(filter: ListFilter): string {
  const all = filter.statuses.length === SIGNING_STATUSES.length;
  return sha256Hex(
    JSON.stringify({
      s: all ? null : filter.statuses,
      r: filter.reference ?? null,
      a: filter.createdAfter?.getTime() ?? null,
      b: filter.createdBefore?.getTime() ?? null,
    }),
  ).slice(0, 16);
}

export function encodeCursor(position: ListPosition, filter: ListFilter): string {
  const body: z.infer<typeof cursorSchema> = { v: 1, t: position.createdAt.getTime(), i: position.id, f: filterDigest(filter) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, filter: ListFilter): ListPosition {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success)
    throw new InvalidCursorError(
      'cursor is not one this API made; pass the nextCursor of the previous page unchanged, or leave cursor out to start from the newest',
    );
  if (result.data.f !== filterDigest(filter))
    throw new InvalidCursorError(
      'cursor belongs to a listing with other filters; send it with the same status, reference, createdAfter and createdBefore as the request that returned it, or leave cursor out to start over',
    );
  return { createdAt: new Date(result.data.t), id: result.data.i };
}

/** Validates a list request (query string or client filter); InvalidSigningRequestError / InvalidCursorError say what to fix. */
export function parseListRequest(input: unknown): ListQuery {
  const parsed = listQuerySchema.safeParse(input ?? {});
  if (!parsed.success) throw new InvalidSigningRequestError(formatZodIssues(parsed.error));
  const q = parsed.data;
  // Sorted and deduplicated, so the same set of statuses is the same filter (and the same digest).
  const statuses = q.status ? SIGNING_STATUSES.filter((s) => q.status?.includes(s)) : [...SIGNING_STATUSES];
  const filter: ListFilter = {
    statuses,
    ...(q.reference !== undefined ? { reference: q.reference } : {}),
    ...(q.createdAfter ? { createdAfter: q.createdAfter } : {}),
    ...(q.createdBefore ? { createdBefore: q.createdBefore } : {}),
  };
  return { filter, limit: q.limit ?? LIST_LIMIT.default, after: q.cursor !== undefined ? decodeCursor(q.cursor, filter) : null };
}

/** One page of signings, newest first, each as GET /v1/signings/:id answers it. */
export async function listSignings(store: SigningStore, input: unknown): Promise<SigningPage> {
  const query = parseListRequest(input);
  const { signings, more } = await store.listPage(query.filter, query.after, query.limit);
  const last = signings.at(-1);
  return {
    items: signings.map(toResponse),
    nextCursor: more && last ? encodeCursor({ createdAt: last.createdAt, id: last._id }, query.filter) : null,
  };
}

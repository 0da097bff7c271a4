// Checks recorded MongoDB commands against declared indexes (test/store/indexes.test.ts). Pure logic:
// it reads the commands as the driver's command monitoring reports them, so the verdict is the same
// on FerretDB (which accepts index declarations but scans anyway) and on MongoDB 7.
//
// The rule, per filter (and its sort): an index serves it when
//   - the index is unique (the `_id` index included) and the filter pins every key of it by
//     equality: a point lookup, whatever else the filter or the sort says; or
//   - the filter's equality fields are exactly the index's first keys, its range fields ($lt, $lte,
//     $gt, $gte) come right after them, and a sort (less the equality fields) is the keys that follow
//     the equality prefix, in the index's order or all reversed.
// Anything else (an operator an index cannot bound, $or, a field outside the prefix, a sort the index
// does not give, an empty filter that reads more than one document) is not served.

export interface IndexSpec {
  name: string;
  key: [string, number][];
  unique: boolean;
}

export interface RecordedCommand {
  /** Who sent it (the activity, the service call, or `background` for the HTTP side and the relay). */
  label: string;
  commandName: string;
  command: Record<string, unknown>;
}

/** One query a command carries: its collection, filter and sort. */
export interface Query {
  collection: string;
  commandName: string;
  filter: Record<string, unknown>;
  sort: [string, number][];
  /** At most one document is read (find with limit 1): an empty filter is then not a scan. */
  single: boolean;
  /** A count without a query: the collection's own count (MongoDB keeps it), not a scan. */
  metadataCount: boolean;
}

/** Commands that carry no query (writes by _id only, cursors, housekeeping). */
const NO_QUERY = new Set([
  'insert',
  'getMore',
  'killCursors',
  'createIndexes',
  'listIndexes',
  'dropIndexes',
  'ping',
  'hello',
  'isMaster',
  'ismaster',
  'endSessions',
  'buildInfo',
  'listCollections',
]);

export class UnknownCommandError extends Error {
  override readonly name = 'UnknownCommandError';
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** The sort as [field, direction] pairs; the driver hands a cursor's sort over as a Map. */
export function sortOf(sort: unknown): [string, number][] {
  const entries = sort instanceof Map ? [...(sort as Map<unknown, unknown>).entries()] : isPlainObject(sort) ? Object.entries(sort) : [];
  return entries.map(([k, v]) => {
    const dir = v === -1 || v === 'desc' || v === 'descending' ? -1 : 1;
    return [String(k), dir];
  });
}

/** The queries in one command; UnknownCommandError for a command this checker does not know. */
export function queriesOf(c: RecordedCommand): Query[] {
  const cmd = c.command;
  const name = c.commandName;
  if (NO_QUERY.has(name)) return [];
  const collection = String(cmd[name]);
  const q = (filter: unknown, sort: unknown = undefined, extra: Partial<Query> = {}): Query => ({
    collection,
    commandName: name,
    filter: isPlainObject(filter) ? filter : {},
    sort: sortOf(sort),
    single: false,
    metadataCount: false,
    ...extra,
  });
  switch (name) {
    case 'find':
      return [q(cmd.filter, cmd.sort, { single: cmd.limit === 1 || cmd.singleBatch === true })];
    case 'update':
      return ((cmd.updates as { q: unknown; sort?: unknown }[]) ?? []).map((u) => q(u.q, u.sort));
    case 'delete':
      return ((cmd.deletes as { q: unknown }[]) ?? []).map((d) => q(d.q));
    case 'findAndModify':
      return [q(cmd.query, cmd.sort)];
    case 'count':
      return [q(cmd.query, undefined, { metadataCount: !isPlainObject(cmd.query) || Object.keys(cmd.query).length === 0 })];
    case 'distinct':
      return [q(cmd.query)];
    case 'aggregate': {
      const pipeline = (cmd.pipeline as Record<string, unknown>[]) ?? [];
      const first = pipeline[0];
      const match = first && '$match' in first ? first.$match : {};
      const next = pipeline[first && '$match' in first ? 1 : 0];
      return [q(match, next && '$sort' in next ? next.$sort : undefined)];
    }
    default:
      throw new UnknownCommandError(`the index check does not know the command ${name}: add how to read its filter`);
  }
}

const RANGE = new Set(['$lt', '$lte', '$gt', '$gte']);
const EQUALITY = new Set(['$eq', '$in']);

interface Shape {
  equality: Set<string>;
  range: Set<string>;
  /** Fields with an operator no index bounds ($ne, $exists, …), and `$or` & co. */
  other: string[];
}

/** The filter's fields by kind. */
export function shapeOf(filter: Record<string, unknown>): Shape {
  const shape: Shape = { equality: new Set(), range: new Set(), other: [] };
  const walk = (f: Record<string, unknown>) => {
    for (const [field, value] of Object.entries(f)) {
      if (field === '$and' && Array.isArray(value)) {
        value.forEach((v) => isPlainObject(v) && walk(v));
        continue;
      }
      if (field.startsWith('$')) {
        shape.other.push(field);
        continue;
      }
      const ops = isPlainObject(value) ? Object.keys(value) : [];
      if (ops.length > 0 && ops.every((o) => o.startsWith('$'))) {
        for (const op of ops) {
          if (EQUALITY.has(op)) shape.equality.add(field);
          else if (RANGE.has(op)) shape.range.add(field);
          else shape.other.push(`${field} ${op}`);
        }
      } else shape.equality.add(field); // a value (null, a date, a string, an embedded document)
    }
  };
  walk(filter);
  // A field both pinned and ranged is pinned.
  for (const f of shape.equality) shape.range.delete(f);
  return shape;
}

/** The filter and sort as text without any value: `{status, _id: $gt} sort {_id: 1}`. */
export function describeQuery(q: Pick<Query, 'filter' | 'sort'>): string {
  const parts = (f: Record<string, unknown>): string[] =>
    Object.entries(f).map(([k, v]) => {
      if (k === '$and' || k === '$or' || k === '$nor')
        return `${k}: [${(v as Record<string, unknown>[]).map((x) => `{${parts(x).join(', ')}}`).join(', ')}]`;
      if (isPlainObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((o) => o.startsWith('$')))
        return `${k}: ${Object.keys(v).join('/')}`;
      return k;
    });
  const sort = q.sort.length > 0 ? ` sort {${q.sort.map(([k, d]) => `${k}: ${d}`).join(', ')}}` : '';
  return `{${parts(q.filter).join(', ')}}${sort}`;
}

function servedBy(shape: Shape, sort: [string, number][], index: IndexSpec): boolean {
  const keys = index.key.map(([k]) => k);
  if (index.unique && keys.every((k) => shape.equality.has(k))) return true;
  if (shape.other.length > 0) return false;
  const e = shape.equality.size;
  if (e > keys.length) return false;
  if (!keys.slice(0, e).every((k) => shape.equality.has(k))) return false;
  const rest = index.key.slice(e);
  const sortRest = sort.filter(([k]) => !shape.equality.has(k));
  if (sortRest.length > 0) {
    if (sortRest.length > rest.length) return false;
    const sameWay = sortRest.every(([k, d], i) => rest[i]?.[0] === k && rest[i]?.[1] === d);
    const reversed = sortRest.every(([k, d], i) => rest[i]?.[0] === k && rest[i]?.[1] === -d);
    if (!sameWay && !reversed) return false;
  }
  const rangeWindow = rest.slice(0, sortRest.length + shape.range.size).map(([k]) => k);
  return [...shape.range].every((f) => rangeWindow.includes(f));
}

/**
 * Why no index serves the query, or null when one does (the `_id` index is always there). The
 * answer names the collection, the command and the filter's shape, never a value.
 */
export function unservedReason(q: Query, indexes: readonly IndexSpec[]): string | null {
  const shape = shapeOf(q.filter);
  const empty = shape.equality.size === 0 && shape.range.size === 0 && shape.other.length === 0;
  if (empty) {
    if (q.metadataCount || (q.single && q.sort.length === 0)) return null;
    return `${q.collection} ${q.commandName} ${describeQuery(q)}: an empty filter reads the whole collection`;
  }
  const all: IndexSpec[] = [{ name: '_id_', key: [['_id', 1]], unique: true }, ...indexes.filter((i) => i.name !== '_id_')];
  if (all.some((i) => servedBy(shape, q.sort, i))) return null;
  return `${q.collection} ${q.commandName} ${describeQuery(q)}: no index serves it (indexes: ${all.map((i) => i.name).join(', ')})`;
}

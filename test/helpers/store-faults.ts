// Store faults for tests: a real Db whose chosen collection methods fail the next N calls, the way
// a MongoDB outage or a crash between two writes would. Everything else goes to the real store
// (GridFS included: its bucket asks this Db for its collections), so the code under test runs as
// in production up to the injected failure.
import { MongoNetworkError, type Db } from 'mongodb';

export interface StoreFault {
  /** Collection name, e.g. `transactions` or `documents.files`. */
  collection: string;
  /** Collection method, e.g. `insertOne`, `findOne`, `deleteOne`. */
  method: string;
  /** How many calls fail (default 1); later calls go through. */
  times?: number;
  /** Only calls whose arguments this accepts fail (e.g. one document's insert); others go through. */
  match?: (...args: unknown[]) => boolean;
}

export interface FaultyDb {
  db: Db;
  /** Arms another fault. */
  fail(fault: StoreFault): void;
  /** How many calls each armed fault has failed so far, keyed `collection.method`. */
  failures: Map<string, number>;
}

export function faultyDb(real: Db, initial: StoreFault[] = []): FaultyDb {
  const armed: { key: string; left: number; match?: StoreFault['match'] }[] = [];
  const failures = new Map<string, number>();
  const fail = (f: StoreFault) => armed.push({ key: `${f.collection}#${f.method}`, left: f.times ?? 1, match: f.match });
  initial.forEach(fail);
  const db = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver) as unknown;
      return (name: string, options?: object) => {
        const coll = target.collection(name, options);
        return new Proxy(coll, {
          get(c, method, r) {
            const value = Reflect.get(c, method, r) as unknown;
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              const key = `${name}#${String(method)}`;
              const fault = armed.find((f) => f.key === key && f.left > 0 && (!f.match || f.match(...args)));
              if (fault) {
                fault.left -= 1;
                failures.set(`${name}.${String(method)}`, (failures.get(`${name}.${String(method)}`) ?? 0) + 1);
                const err = new MongoNetworkError(`injected fault: ${name}.${String(method)}`);
                // Cursor methods (find) fail when read, like a real one.
                if (method === 'find' || method === 'aggregate')
                  return { toArray: () => Promise.reject(err), [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }) };
                return Promise.reject(err);
              }
              return (value as (...a: unknown[]) => unknown).apply(c, args);
            };
          },
        });
      };
    },
  });
  return { db, fail, failures };
}

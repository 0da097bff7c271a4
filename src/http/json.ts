// JSON request bodies of the service's HTTP features (callbacks, business API): JSON only, parsed
// refusing `__proto__` and `constructor` keys at any depth (prototype pollution), and refused in our
// own words: JSON.parse's message quotes the body, which may hold personal data.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/** 400 `bad-json`. */
export class BadJsonError extends HttpError {
  constructor(message: string) {
    super(400, 'bad-json', message);
  }
}

/** JSON.parse refusing prototype-pollution keys anywhere (a reviver sees every key, nested ones too); throws BadJsonError. */
export function parseSafeJson(text: string): unknown {
  let forbidden = false;
  let value: unknown;
  try {
    value = JSON.parse(text, (key: string, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) forbidden = true;
      return v;
    });
  } catch {
    throw new BadJsonError(text.trim() === '' ? 'the body is empty; send a JSON object' : 'the body is not valid JSON');
  }
  if (forbidden) throw new BadJsonError('the body must not contain the keys __proto__ or constructor');
  return value;
}

export interface SafeJsonBodyOptions {
  /** The parser's limit in bytes (routes may set their own); default: the server's. */
  bodyLimit?: number;
  /** An empty body is no body (`undefined`) rather than a 400. */
  emptyIsNone?: boolean;
}

/**
 * Makes `application/json` the only body type of this (encapsulated) scope, parsed by
 * parseSafeJson: every other content type, or none with a body, is answered 415 by Fastify.
 */
export function acceptOnlySafeJson(app: FastifyInstance, options: SafeJsonBodyOptions = {}): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}) },
    async (_request: unknown, body: string | Buffer) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      return options.emptyIsNone && text.trim() === '' ? undefined : parseSafeJson(text);
    },
  );
}

// The HTTP listener's limits (body sizes, timeouts, overload, rate limits, /metrics
// protection): their environment variables, parsed and bounded here and merged into src/config.ts's
// schema, so a bad value stops the process like every other variable (exit 1, one line naming it).
// Kept apart from src/config.ts so the listener's knobs are in one place.
import { z } from 'zod';

const KIB = 1024;
const MIB = 1024 * KIB;
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: KIB, kb: 1000, mib: MIB, mb: 1000 * 1000, gib: 1024 * MIB, gb: 1e9 };
const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Bytes of `65536`, `64KiB`, `30MiB` (whole numbers only), or undefined. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d{1,12})\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = BYTE_UNITS[(m[2] ?? '').toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** Milliseconds of `500ms`, `10s`, `2m`, `1h` (whole numbers only), or undefined. */
export function parseWholeDuration(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (TIME_UNITS[m[2] as string] as number);
}

const fmtBytes = (n: number): string => (n % MIB === 0 ? `${n / MIB}MiB` : n % KIB === 0 ? `${n / KIB}KiB` : `${n}`);
const fmtMs = (n: number): string => (n % 60_000 === 0 ? `${n / 60_000}m` : n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);

function bytes(min: number, max: number, dflt: number) {
  const expect = `a size in bytes like 64KiB or 30MiB, from ${fmtBytes(min)} to ${fmtBytes(max)}`;
  return z
    .string()
    .refine((s) => {
      const n = parseBytes(s);
      return n !== undefined && n >= min && n <= max;
    }, expect)
    .transform((s) => parseBytes(s) as number)
    .default(dflt);
}

function millis(min: number, max: number, dflt: number, opts: { off?: boolean } = {}) {
  const expect = `a whole duration like 10s or 2m, from ${fmtMs(min)} to ${fmtMs(max)}${opts.off ? ', or off' : ''}`;
  return z
    .string()
    .refine((s) => {
      if (opts.off && s.trim() === 'off') return true;
      const n = parseWholeDuration(s);
      return n !== undefined && n >= min && n <= max;
    }, expect)
    .transform((s) => (s.trim() === 'off' ? 0 : (parseWholeDuration(s) as number)))
    .default(dflt);
}

function count(min: number, max: number, dflt: number, opts: { off?: boolean } = {}) {
  const expect = `a whole number from ${min} to ${max}${opts.off ? ', or off' : ''}`;
  return z
    .string()
    .refine((s) => (opts.off && s.trim() === 'off') || (/^\d{1,9}$/.test(s.trim()) && Number(s) >= min && Number(s) <= max), expect)
    .transform((s) => (s.trim() === 'off' ? 0 : Number(s)))
    .default(dflt);
}

/** Defaults (README "Configuration", HTTP limits). */
export const HTTP_LIMIT_DEFAULTS = {
  bodyLimit: 64 * KIB,
  uploadLimit: 30 * MIB,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  idleTimeoutMs: 5_000,
  connectionTimeoutMs: 60_000,
  overloadMaxEventLoopDelayMs: 1_000,
  overloadMaxHeapUsedBytes: 0,
  overloadRetryAfterS: 10,
  apiRateLimit: 600,
  apiRateLimitWindowMs: 60_000,
} as const;
const D = HTTP_LIMIT_DEFAULTS;

export const httpLimitsSchema = {
  HTTP_BODY_LIMIT: bytes(1 * KIB, 1 * MIB, D.bodyLimit),
  UPLOAD_BODY_LIMIT: bytes(64 * KIB, 200 * MIB, D.uploadLimit),
  HTTP_HEADERS_TIMEOUT: millis(1000, 120_000, D.headersTimeoutMs),
  HTTP_REQUEST_TIMEOUT: millis(5000, 3_600_000, D.requestTimeoutMs),
  HTTP_IDLE_TIMEOUT: millis(1000, 600_000, D.idleTimeoutMs),
  HTTP_CONNECTION_TIMEOUT: millis(1000, 3_600_000, D.connectionTimeoutMs),
  OVERLOAD_MAX_EVENT_LOOP_DELAY: millis(10, 60_000, D.overloadMaxEventLoopDelayMs, { off: true }),
  OVERLOAD_MAX_HEAP_USED: z
    .string()
    .refine((s) => {
      if (s.trim() === 'off') return true;
      const n = parseBytes(s);
      return n !== undefined && n >= 64 * MIB && n <= 64 * 1024 * MIB;
    }, 'a size like 1536MiB, from 64MiB to 64GiB, or off')
    .transform((s) => (s.trim() === 'off' ? 0 : (parseBytes(s) as number)))
    .default(D.overloadMaxHeapUsedBytes),
  OVERLOAD_RETRY_AFTER: millis(1000, 3_600_000, D.overloadRetryAfterS * 1000),
  API_RATE_LIMIT: count(1, 1_000_000, D.apiRateLimit, { off: true }),
  API_RATE_LIMIT_WINDOW: millis(1000, 3_600_000, D.apiRateLimitWindowMs),
  METRICS_TOKEN: z.string().trim().min(16, 'at least 16 characters').optional(),
} as const;

export const HTTP_LIMITS_EXPECTED: Record<keyof typeof httpLimitsSchema, string> = {
  HTTP_BODY_LIMIT: 'a size in bytes like 64KiB, from 1KiB to 1MiB',
  UPLOAD_BODY_LIMIT: 'a size in bytes like 30MiB, from 64KiB to 200MiB',
  HTTP_HEADERS_TIMEOUT: 'a whole duration like 10s, from 1s to 2m',
  HTTP_REQUEST_TIMEOUT: 'a whole duration like 2m, from 5s to 60m',
  HTTP_IDLE_TIMEOUT: 'a whole duration like 5s, from 1s to 10m',
  HTTP_CONNECTION_TIMEOUT: 'a whole duration like 60s, from 1s to 60m',
  OVERLOAD_MAX_EVENT_LOOP_DELAY: 'a whole duration like 1s, from 10ms to 1m, or off',
  OVERLOAD_MAX_HEAP_USED: 'a size like 1536MiB, from 64MiB to 64GiB, or off',
  OVERLOAD_RETRY_AFTER: 'a whole duration like 10s, from 1s to 60m',
  API_RATE_LIMIT: 'a whole number of requests per window from 1 to 1000000, or off',
  API_RATE_LIMIT_WINDOW: 'a whole duration like 1m, from 1s to 60m',
  METRICS_TOKEN: 'a bearer token of at least 16 characters',
};

export interface HttpLimitsConfig {
  /** Body limit of every route that sets none (404s included). */
  bodyLimit: number;
  /** Body limit of POST /v1/signings (JSON), and the document's size limit (multipart). */
  uploadLimit: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  connectionTimeoutMs: number;
  /** 0: not checked. */
  overloadMaxEventLoopDelayMs: number;
  /** 0: not checked. */
  overloadMaxHeapUsedBytes: number;
  overloadRetryAfterS: number;
  /** Requests per window per client address on the business API; 0: no limit. */
  apiRateLimit: number;
  apiRateLimitWindowMs: number;
  /** When set, GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>`. */
  metricsToken?: string;
}

type Parsed = { [K in keyof typeof httpLimitsSchema]: z.output<(typeof httpLimitsSchema)[K]> };

/** The parsed variables as HttpLimitsConfig, or the variable and expectation of a cross-check that fails. */
export function httpLimitsFrom(p: Parsed): HttpLimitsConfig | { variable: string; expectation: string } {
  if (p.HTTP_REQUEST_TIMEOUT < p.HTTP_HEADERS_TIMEOUT) {
    return { variable: 'HTTP_REQUEST_TIMEOUT', expectation: 'expected at least HTTP_HEADERS_TIMEOUT' };
  }
  if (p.UPLOAD_BODY_LIMIT < p.HTTP_BODY_LIMIT) {
    return { variable: 'UPLOAD_BODY_LIMIT', expectation: 'expected at least HTTP_BODY_LIMIT' };
  }
  return {
    bodyLimit: p.HTTP_BODY_LIMIT,
    uploadLimit: p.UPLOAD_BODY_LIMIT,
    headersTimeoutMs: p.HTTP_HEADERS_TIMEOUT,
    requestTimeoutMs: p.HTTP_REQUEST_TIMEOUT,
    idleTimeoutMs: p.HTTP_IDLE_TIMEOUT,
    connectionTimeoutMs: p.HTTP_CONNECTION_TIMEOUT,
    overloadMaxEventLoopDelayMs: p.OVERLOAD_MAX_EVENT_LOOP_DELAY,
    overloadMaxHeapUsedBytes: p.OVERLOAD_MAX_HEAP_USED,
    overloadRetryAfterS: Math.ceil(p.OVERLOAD_RETRY_AFTER / 1000),
    apiRateLimit: p.API_RATE_LIMIT,
    apiRateLimitWindowMs: p.API_RATE_LIMIT_WINDOW,
    ...(p.METRICS_TOKEN !== undefined ? { metricsToken: p.METRICS_TOKEN } : {}),
  };
}

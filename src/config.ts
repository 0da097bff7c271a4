// Reads and validates the environment once, at start (README "Configuration").
// Sandbox mode runs against the project's simulator and fills in credentials, the key file, the
// allowlist and the API token itself; otherwise they are required. It is on only when chosen
// (EVROTRUST_SANDBOX=true) or when nothing external is configured at all (no EVROTRUST_BASE_URL,
// TEMPORAL_ADDRESS or MONGODB_URI: `npm start` on a fresh clone), never under NODE_ENV=production:
// a production MONGODB_URI with a forgotten EVROTRUST_BASE_URL must stop, not run the simulator.
import { isIP } from 'node:net';
import { z } from 'zod';
import { describeBounds, formatDuration, parseDuration, withinBounds, type DurationBounds } from './lib/duration';
import { checkRange, MIN_PREFIX } from './lib/address-range';
import { firstZodIssue } from './lib/zod-issues';
import { DEFAULT_SANDBOX_SIMULATOR_URL } from './evrotrust/sandbox';
import { COVERAGES, SIGNATURE_TYPES, type SignatureType } from './evrotrust/schemas';
import type { DownloadLimits } from './evrotrust/limits';
import { httpLimitsFrom, httpLimitsSchema, HTTP_LIMITS_EXPECTED, type HttpLimitsConfig } from './config-http';
import { EXPIRY_BOUNDS } from './signings/schemas';
import { loadTemporalConnection, TemporalConfigError, type TemporalConnection } from './temporal/connection';
import {
  observabilityFrom,
  observabilitySchema,
  OBSERVABILITY_EXPECTED,
  type ObservabilityConfig,
  type ShutdownConfig,
} from './config-observability';
import { notifyFrom, notifySchema, NOTIFY_EXPECTED, type NotifyConfig } from './config-notify';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expectation: string,
  ) {
    super(`${variable}: ${expectation}`);
    this.name = 'ConfigError';
  }
}

export interface Config {
  /** Sandbox mode: the simulator stands in for Evrotrust (EVROTRUST_SANDBOX, or nothing external configured). */
  sandbox: boolean;
  /** Sandbox mode only: the simulator's base URL (its vendor API is under /vendor). */
  sandboxSimulatorUrl: string;
  /**
   * The Temporal connection (src/temporal/connection.ts: envconfig's variables and profiles); `address`
   * is unset when none is configured (`npm start` runs its dev server then). The task queue is ours.
   */
  temporal: TemporalConnection & { taskQueue: string };
  mongodb: { uri?: string; dbName: string };
  evrotrust: {
    baseUrl?: string;
    vendorNumber?: string;
    apiKey?: string;
    privateKeyFile?: string;
    /** What every send carries unless a signing overrides it (docs/evrotrust.md). */
    signing: {
      pdfType: SignatureType;
      xmlType: SignatureType;
      otherType: SignatureType;
      algorithm: string;
      coverage: 0 | 500 | 20000 | 100000 | 250000;
      /** null: not sent. */
      certificateType: number | null;
    };
  };
  publicBaseUrl: string;
  /** The Temporal Web UI (TEMPORAL_UI_URL), for the signings page's links to each workflow; npm start sets its own. */
  temporalUiUrl?: string;
  callbackAllowedIps: string[];
  trustProxy: string[];
  apiToken?: string;
  signingDefaultExpiryMs: number;
  signingPollIntervalMs: number;
  signingExpiryGraceMs: number;
  reconcileIntervalMs: number;
  host: string;
  port: number;
  dataDir: string;
  /** Download limits and data retention: see loadDataConfig below. */
  downloadLimits: DownloadLimits;
  retention: RetentionConfig;
  /** Body sizes, timeouts, overload, rate limits and /metrics protection of the HTTP listener. */
  http: HttpLimitsConfig;
  /** Log format and level, worker metrics, tracing (src/config-observability.ts). */
  observability: ObservabilityConfig;
  /** The worker's drain and the bound on a whole graceful stop. */
  shutdown: ShutdownConfig;
  /** Final-state notifications (NOTIFY_URL, NOTIFY_SECRET, NOTIFY_GIVE_UP_AFTER; src/config-notify.ts). */
  notify: NotifyConfig;
}

const nonEmpty = z.string().trim().min(1);

/** An IPv4/IPv6 address or CIDR range; used for CALLBACK_ALLOWED_IPS and TRUST_PROXY. */
export function isAddressOrCidr(entry: string): boolean {
  const [addr, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Why an entry admits (nearly) every caller, or undefined when it does not (lib/address-range.ts). */
function tooWideEntry(entry: string): string | undefined {
  const [addr, prefix] = entry.split('/');
  if (!addr || prefix === undefined) return undefined;
  const verdict = checkRange(addr, Number(prefix));
  if (verdict.ok) return undefined;
  const what = {
    everything: 'matches every address',
    'all-ipv4': 'covers the IPv4-mapped block ::ffff:0:0/96, so it admits every IPv4 caller',
    'too-wide': `is wider than /${MIN_PREFIX.ipv4} (IPv4) or /${MIN_PREFIX.ipv6} (IPv6), the widest private blocks`,
  }[verdict.reason];
  return `${entry} ${what}`;
}

const ADDRESS_LIST = 'a comma-separated list of IPv4/IPv6 addresses or CIDR ranges, e.g. 203.0.113.10,2001:db8::/32';
// Set but empty (",") is refused rather than read as "nobody" or "none": it is almost always an
// unset variable expanded into a template. Entries that admit everyone are refused: such a list
// checks nothing (an allowlist) or believes any X-Forwarded-For (a proxy list).
const addressList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0, { message: `${ADDRESS_LIST}; it is empty` })
  .refine((list) => list.every(isAddressOrCidr), { message: ADDRESS_LIST })
  .superRefine((list, ctx) => {
    const wide = list.map(tooWideEntry).find((w) => w !== undefined);
    if (wide) ctx.addIssue({ code: 'custom', message: `specific addresses or ranges, but ${wide}` });
  });

/** Any whole-unit duration. Settings use boundedDuration; this stays for other variables' blocks. */
export const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: 'a duration like 90s, 15m or 3d' })
  .transform((s) => parseDuration(s) as number);

/** A duration within its documented bounds (README "Configuration"). */
function boundedDuration(bounds: DurationBounds, example: string) {
  const expected = `a whole-unit duration ${describeBounds(bounds)}, e.g. ${example}`;
  return z
    .string()
    .refine((s) => parseDuration(s) !== undefined, { message: expected })
    .transform((s) => parseDuration(s) as number)
    .refine((ms) => withinBounds(ms, bounds), { message: expected });
}

// Bounds of the duration settings. SIGNING_DEFAULT_EXPIRY shares EXPIRY_BOUNDS with the API's
// `expiresIn` (src/signings/schemas.ts says why those).
/** Polling is the fallback for a lost callback: under 5 s it loads Evrotrust with one status call per
 * pending signing that often (the drills use 5 s against the simulator); over a day a lost callback
 * leaves a finished signing unseen for too long. */
export const POLL_INTERVAL_BOUNDS: DurationBounds = { minMs: 5_000, maxMs: 86_400_000 };
/** The wait after `expiresAt` for Evrotrust's own expiry; the contract says at most 1m. */
export const EXPIRY_GRACE_BOUNDS: DurationBounds = { minMs: 1_000, maxMs: 60_000 };
/** Each pass reads the pending signings and asks Temporal about their workflows: under 5 s that is
 * a busy loop; over an hour a signing whose start was lost waits that long to be started or failed. */
export const RECONCILE_INTERVAL_BOUNDS: DurationBounds = { minMs: 5_000, maxMs: 3_600_000 };

const httpUrl = z
  .string()
  .trim()
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'an http(s) URL' },
  );

const mongoUri = z
  .string()
  .trim()
  .refine((s) => /^mongodb(\+srv)?:\/\//.test(s), { message: 'a mongodb:// or mongodb+srv:// connection string' })
  .refine((s) => mongoDbName(s) !== undefined, {
    message: 'a connection string that names the database, e.g. mongodb://127.0.0.1:27017/evrotrust',
  });

/** The database named in a MongoDB URI's path, if any. */
export function mongoDbName(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

const signatureType = z.enum(SIGNATURE_TYPES, { message: `one of ${SIGNATURE_TYPES.join(', ')}` });
const coverage = z
  .string()
  .trim()
  .refine((s) => (COVERAGES as readonly number[]).map(String).includes(s), {
    message: `one of ${COVERAGES.join(', ')} (euro; 0 = unlimited)`,
  })
  .transform((s) => Number(s) as (typeof COVERAGES)[number]);
const certificateType = z
  .string()
  .trim()
  .regex(/^(\d{1,3}|none)$/, 'a non-negative integer such as 1 (qualified), or none to leave it out')
  .transform((s) => (s === 'none' ? null : Number(s)));

const schema = {
  TEMPORAL_TASK_QUEUE: nonEmpty.default('evrotrust-signing'),
  MONGODB_URI: mongoUri.optional(),
  EVROTRUST_BASE_URL: httpUrl.optional(),
  SANDBOX_SIMULATOR_URL: httpUrl.default(DEFAULT_SANDBOX_SIMULATOR_URL),
  EVROTRUST_VENDOR_NUMBER: nonEmpty.optional(),
  EVROTRUST_API_KEY: nonEmpty.optional(),
  EVROTRUST_PRIVATE_KEY_FILE: nonEmpty.optional(),
  EVROTRUST_SIGNATURE_TYPE_PDF: signatureType.default('PDF2'),
  EVROTRUST_SIGNATURE_TYPE_XML: signatureType.default('XML1'),
  EVROTRUST_SIGNATURE_TYPE_OTHER: signatureType.default('CAD1'),
  EVROTRUST_SIGNATURE_ALGORITHM: z.literal('SHA256', { message: 'SHA256 (the only algorithm Evrotrust documents)' }).default('SHA256'),
  EVROTRUST_COVERAGE: coverage.default(20000),
  EVROTRUST_CERTIFICATE_TYPE: certificateType.default(1),
  EVROTRUST_SANDBOX: z
    .string()
    .trim()
    .regex(/^(true|false)$/, 'true or false')
    .transform((s) => s === 'true')
    .optional(),
  NODE_ENV: z.string().trim().optional(),
  PUBLIC_BASE_URL: httpUrl.optional(),
  TEMPORAL_UI_URL: httpUrl.optional(),
  CALLBACK_ALLOWED_IPS: addressList.optional(),
  TRUST_PROXY: addressList.optional(),
  API_TOKEN: z.string().trim().min(16, 'at least 16 characters').optional(),
  SIGNING_DEFAULT_EXPIRY: boundedDuration(EXPIRY_BOUNDS, '3d').default(3 * 86_400_000),
  SIGNING_POLL_INTERVAL: boundedDuration(POLL_INTERVAL_BOUNDS, '15m').default(15 * 60_000),
  SIGNING_EXPIRY_GRACE: boundedDuration(EXPIRY_GRACE_BOUNDS, '1m').default(60_000),
  RECONCILE_INTERVAL: boundedDuration(RECONCILE_INTERVAL_BOUNDS, '1m').default(60_000),
  PORT: z
    .string()
    .regex(/^\d+$/, 'a port number 0-65535')
    .transform(Number)
    .refine((n) => n <= 65535, 'a port number 0-65535')
    .default(3000),
  HOST: nonEmpty.default('0.0.0.0'),
  DATA_DIR: nonEmpty.default('.data'),
  ...httpLimitsSchema,
  ...observabilitySchema,
  ...notifySchema,
} as const;

type Schema = typeof schema;
type Parsed = { [K in keyof Schema]: z.output<Schema[K]> };

const EXPECTED: Record<keyof Schema, string> = {
  TEMPORAL_TASK_QUEUE: 'a task queue name',
  MONGODB_URI: 'a mongodb:// connection string that names the database, e.g. mongodb://127.0.0.1:27017/evrotrust',
  EVROTRUST_BASE_URL: 'the vendor API base URL, e.g. https://et.test.iteco.bg/vendor',
  SANDBOX_SIMULATOR_URL: 'the http(s) base URL of the Evrotrust simulator, e.g. http://127.0.0.1:8090',
  EVROTRUST_VENDOR_NUMBER: 'your Evrotrust vendor number',
  EVROTRUST_API_KEY: 'your Evrotrust API key',
  EVROTRUST_PRIVATE_KEY_FILE: 'the path of an RSA-2048 private key (PKCS#8 PEM)',
  EVROTRUST_SIGNATURE_TYPE_PDF: `a signature type for PDF files, one of ${SIGNATURE_TYPES.join(', ')}`,
  EVROTRUST_SIGNATURE_TYPE_XML: `a signature type for XML files, one of ${SIGNATURE_TYPES.join(', ')}`,
  EVROTRUST_SIGNATURE_TYPE_OTHER: `a signature type for other files, one of ${SIGNATURE_TYPES.join(', ')}`,
  EVROTRUST_SIGNATURE_ALGORITHM: 'SHA256',
  EVROTRUST_COVERAGE: `one of ${COVERAGES.join(', ')}`,
  EVROTRUST_CERTIFICATE_TYPE: 'a non-negative integer such as 1 (qualified), or none',
  EVROTRUST_SANDBOX: 'true (run against the simulator) or false',
  NODE_ENV: 'an environment name such as production',
  PUBLIC_BASE_URL: 'the http(s) URL at which Evrotrust reaches this service, e.g. https://signing.example.com',
  TEMPORAL_UI_URL: 'the http(s) URL of the Temporal Web UI, e.g. https://temporal.example.com',
  CALLBACK_ALLOWED_IPS: 'a comma-separated list of IPv4/IPv6 addresses or CIDR ranges',
  TRUST_PROXY: 'a comma-separated list of proxy addresses or CIDR ranges',
  API_TOKEN: 'a bearer token of at least 16 characters',
  SIGNING_DEFAULT_EXPIRY: `a whole-unit duration ${describeBounds(EXPIRY_BOUNDS)}, e.g. 3d`,
  SIGNING_POLL_INTERVAL: `a whole-unit duration ${describeBounds(POLL_INTERVAL_BOUNDS)}, e.g. 15m`,
  SIGNING_EXPIRY_GRACE: `a whole-unit duration ${describeBounds(EXPIRY_GRACE_BOUNDS)}, e.g. 1m`,
  RECONCILE_INTERVAL: `a whole-unit duration ${describeBounds(RECONCILE_INTERVAL_BOUNDS)}, e.g. 1m`,
  PORT: 'a port number 0-65535',
  HOST: 'an address to listen on, e.g. 0.0.0.0',
  DATA_DIR: 'a directory for local state',
  ...HTTP_LIMITS_EXPECTED,
  ...OBSERVABILITY_EXPECTED,
  ...NOTIFY_EXPECTED,
};

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const temporal = temporalConnection(env);
  const out: Partial<Record<keyof Schema, unknown>> = {};
  for (const key of Object.keys(schema) as (keyof Schema)[]) {
    const raw = env[key];
    const value = raw === undefined || raw.trim() === '' ? undefined : raw;
    const result = (schema[key] as z.ZodType).safeParse(value);
    if (!result.success) {
      // Our own messages say what is expected; zod's generic ones ("Invalid input…") give way to EXPECTED.
      const { message } = firstZodIssue(result.error);
      const msg = value === undefined || message.startsWith('Invalid') ? EXPECTED[key] : message;
      throw new ConfigError(key, `expected ${msg}`);
    }
    out[key] = result.data;
  }
  const p = out as Parsed;
  const sandbox = sandboxMode(p, temporal);
  if (!sandbox) {
    for (const key of [
      'EVROTRUST_VENDOR_NUMBER',
      'EVROTRUST_API_KEY',
      'EVROTRUST_PRIVATE_KEY_FILE',
      'PUBLIC_BASE_URL',
      'CALLBACK_ALLOWED_IPS',
      'API_TOKEN',
    ] as const) {
      if (p[key] === undefined) throw new ConfigError(key, `required outside sandbox mode; expected ${EXPECTED[key]}`);
    }
  }
  const http = httpLimitsFrom(p);
  if ('variable' in http) throw new ConfigError(http.variable, http.expectation);
  const observed = observabilityFrom(p);
  if ('variable' in observed) throw new ConfigError(observed.variable, observed.expectation);
  const notify = notifyFrom(p, sandbox);
  if ('variable' in notify) throw new ConfigError(notify.variable, notify.expectation);
  return {
    sandbox,
    sandboxSimulatorUrl: p.SANDBOX_SIMULATOR_URL.replace(/\/+$/, ''),
    temporal: Object.assign(temporal, { taskQueue: p.TEMPORAL_TASK_QUEUE }), // keeps its redacting toJSON
    mongodb: { uri: p.MONGODB_URI, dbName: p.MONGODB_URI ? (mongoDbName(p.MONGODB_URI) as string) : 'evrotrust' },
    evrotrust: {
      baseUrl: p.EVROTRUST_BASE_URL?.replace(/\/+$/, ''),
      vendorNumber: p.EVROTRUST_VENDOR_NUMBER,
      apiKey: p.EVROTRUST_API_KEY,
      privateKeyFile: p.EVROTRUST_PRIVATE_KEY_FILE,
      signing: {
        pdfType: p.EVROTRUST_SIGNATURE_TYPE_PDF,
        xmlType: p.EVROTRUST_SIGNATURE_TYPE_XML,
        otherType: p.EVROTRUST_SIGNATURE_TYPE_OTHER,
        algorithm: p.EVROTRUST_SIGNATURE_ALGORITHM,
        coverage: p.EVROTRUST_COVERAGE,
        certificateType: p.EVROTRUST_CERTIFICATE_TYPE,
      },
    },
    publicBaseUrl: (p.PUBLIC_BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    ...(p.TEMPORAL_UI_URL ? { temporalUiUrl: p.TEMPORAL_UI_URL.replace(/\/+$/, '') } : {}),
    callbackAllowedIps: p.CALLBACK_ALLOWED_IPS ?? ['127.0.0.1', '::1'],
    trustProxy: p.TRUST_PROXY ?? [],
    apiToken: p.API_TOKEN,
    signingDefaultExpiryMs: p.SIGNING_DEFAULT_EXPIRY,
    signingPollIntervalMs: p.SIGNING_POLL_INTERVAL,
    signingExpiryGraceMs: p.SIGNING_EXPIRY_GRACE,
    reconcileIntervalMs: p.RECONCILE_INTERVAL,
    host: p.HOST,
    port: p.PORT,
    dataDir: p.DATA_DIR,
    ...loadDataConfig(env),
    http,
    ...observed,
    ...notify,
  };
}

/**
 * Sandbox mode when chosen, or when nothing external is configured; refused under NODE_ENV=production.
 * With something external configured and no choice made, EVROTRUST_BASE_URL is required: the one
 * line says how to choose either way.
 */
function sandboxMode(p: Parsed, temporal: TemporalConnection): boolean {
  const production = p.NODE_ENV === 'production';
  if (p.EVROTRUST_SANDBOX === true) {
    if (production)
      throw new ConfigError(
        'EVROTRUST_SANDBOX',
        'sandbox mode (simulator, generated key and API token) is refused under NODE_ENV=production; expected false or unset',
      );
    if (p.EVROTRUST_BASE_URL !== undefined)
      throw new ConfigError(
        'EVROTRUST_SANDBOX',
        'true talks to the simulator at SANDBOX_SIMULATOR_URL, not EVROTRUST_BASE_URL; expected false or unset when EVROTRUST_BASE_URL is set',
      );
    return true;
  }
  if (p.EVROTRUST_BASE_URL !== undefined) return false;
  const external = [
    ...(temporal.address !== undefined ? [temporalChooser(temporal)] : []),
    ...(p.MONGODB_URI !== undefined ? ['MONGODB_URI'] : []),
  ];
  if (p.EVROTRUST_SANDBOX === false || external.length > 0 || production) {
    const why =
      p.EVROTRUST_SANDBOX === false
        ? 'EVROTRUST_SANDBOX=false'
        : production
          ? 'NODE_ENV=production, which refuses sandbox mode'
          : `${external.join(' and ')} set; for the simulator instead, set EVROTRUST_SANDBOX=true`;
    throw new ConfigError('EVROTRUST_BASE_URL', `required outside sandbox mode (${why}); expected ${EXPECTED.EVROTRUST_BASE_URL}`);
  }
  return true;
}

/** The Temporal connection, its refusals as ConfigError like every other variable's. */
function temporalConnection(env: NodeJS.ProcessEnv): TemporalConnection {
  try {
    return loadTemporalConnection(env);
  } catch (err) {
    if (err instanceof TemporalConfigError) throw new ConfigError(err.variable, err.expectation);
    throw err;
  }
}

/** The variable that configured Temporal, for messages: TEMPORAL_ADDRESS, else the profile's chooser. */
function temporalChooser(temporal: TemporalConnection): string {
  if (temporal.source === 'environment') return 'TEMPORAL_ADDRESS';
  return `Temporal (${temporal.source})`;
}

/** loadConfig for entry points: a bad variable prints its one line and exits with code 1. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Download limits and data retention. A block of its own: each variable
// has a default and a minimum and maximum; out of range stops the start with a line naming it.

export interface RetentionConfig {
  /** Personal data of the signers (`signing_people`) is deleted this long after the signing is final. */
  personalDataMs: number;
  /** The signed document (GridFS `documents`) is deleted this long after the signing is final; null: kept. */
  signedDocumentMs: number | null;
  /** How often the retention job looks for signings past these. */
  sweepIntervalMs: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const DAY_MS = 86_400_000;
const BYTE_UNITS = { B: 1, KiB: KIB, MiB: MIB, GiB: GIB } as const;

/** Bytes of a size like `64MiB`, `512KiB` or `1048576` (whole numbers only), or undefined. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d{1,10})\s*(B|KiB|MiB|GiB)?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * BYTE_UNITS[(m[2] ?? 'B') as keyof typeof BYTE_UNITS];
}

function formatBytes(n: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) if (n % BYTE_UNITS[unit] === 0) return `${n / BYTE_UNITS[unit]}${unit}`;
  return `${n}`;
}

type DataVariable = {
  kind: 'bytes' | 'count' | 'duration';
  default: number | null;
  min: number;
  max: number;
  /** `none` is accepted and means null (no limit / keep forever). */
  none?: string;
};

/** The variables of this block: name → kind, default, bounds (README "Configuration"). */
export const DATA_VARIABLES = {
  DOWNLOAD_MAX_BYTES: { kind: 'bytes', default: 64 * MIB, min: 1 * MIB, max: 1 * GIB },
  DOWNLOAD_MAX_ENTRIES: { kind: 'count', default: 64, min: 4, max: 65_535 },
  DOWNLOAD_MAX_INFLATED_BYTES: { kind: 'bytes', default: 256 * MIB, min: 1 * MIB, max: 2 * GIB },
  DOWNLOAD_MAX_ENTRY_RATIO: { kind: 'count', default: 200, min: 10, max: 100_000 },
  PERSONAL_DATA_RETENTION: { kind: 'duration', default: 30 * DAY_MS, min: 60_000, max: 3650 * DAY_MS },
  SIGNED_DOCUMENT_RETENTION: { kind: 'duration', default: null, min: 60_000, max: 3650 * DAY_MS, none: 'none (keep forever)' },
  RETENTION_SWEEP_INTERVAL: { kind: 'duration', default: 3_600_000, min: 10_000, max: DAY_MS },
} as const satisfies Record<string, DataVariable>;

function dataVariable(env: NodeJS.ProcessEnv, name: keyof typeof DATA_VARIABLES): number | null {
  const spec: DataVariable = DATA_VARIABLES[name];
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return spec.default;
  const fmt = spec.kind === 'bytes' ? formatBytes : spec.kind === 'duration' ? formatDuration : String;
  const what =
    spec.kind === 'bytes'
      ? `a size like 64MiB (B, KiB, MiB, GiB; whole numbers) from ${fmt(spec.min)} to ${fmt(spec.max)}`
      : spec.kind === 'duration'
        ? `a duration like 30d (s, m, h, d) from ${fmt(spec.min)} to ${fmt(spec.max)}`
        : `a whole number from ${spec.min} to ${spec.max}`;
  const expected = `expected ${what}${spec.none ? `, or ${spec.none}` : ''}`;
  if (spec.none && raw === 'none') return null;
  const value =
    spec.kind === 'bytes'
      ? parseByteSize(raw)
      : spec.kind === 'duration'
        ? /^\d+(s|m|h|d)$/.test(raw)
          ? parseDuration(raw)
          : undefined
        : /^\d{1,10}$/.test(raw)
          ? Number(raw)
          : undefined;
  if (value === undefined || value < spec.min || value > spec.max) throw new ConfigError(name, expected);
  return value;
}

/** The download limits and retention from the environment; throws ConfigError naming a bad variable. */
export function loadDataConfig(env: NodeJS.ProcessEnv = process.env): { downloadLimits: DownloadLimits; retention: RetentionConfig } {
  const num = (name: keyof typeof DATA_VARIABLES) => dataVariable(env, name) as number;
  return {
    downloadLimits: {
      maxDownloadBytes: num('DOWNLOAD_MAX_BYTES'),
      maxEntries: num('DOWNLOAD_MAX_ENTRIES'),
      maxInflatedBytes: num('DOWNLOAD_MAX_INFLATED_BYTES'),
      maxEntryRatio: num('DOWNLOAD_MAX_ENTRY_RATIO'),
    },
    retention: {
      personalDataMs: num('PERSONAL_DATA_RETENTION'),
      signedDocumentMs: dataVariable(env, 'SIGNED_DOCUMENT_RETENTION'),
      sweepIntervalMs: num('RETENTION_SWEEP_INTERVAL'),
    },
  };
}

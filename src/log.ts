// The one logger factory of every process (HTTP server, relay, reconciler, worker, Evrotrust client):
// pino, JSON lines by default (production: what log shippers parse), or human-readable with
// LOG_FORMAT=pretty (`npm start` sets it) through pino-pretty, a devDependency: where it is not
// installed (the production image) the logger falls back to JSON and says so once.
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogFormat, LogLevel } from './config-observability';
import type { EvrotrustLogger } from './evrotrust/types';

export type { Logger } from 'pino';

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where the lines go; stdout otherwise. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

/**
 * A callback URL's capability token (`/evrotrust/callback/t/<token>/…`) is a credential: it shows in
 * request lines (Fastify's `req.url`, its 404 message), so every line is masked before it is written.
 */
const CAPABILITY_TOKEN = /(\/callback\/+t\/)[^/"\s?#]+/g;
export function maskCapabilityTokens(line: string): string {
  return line.replace(CAPABILITY_TOKEN, '$1<token>');
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

/** pino-pretty, when installed. */
function loadPretty(): PrettyFactory | undefined {
  try {
    // Loaded only when asked for, synchronously (the logger is made before anything else): the
    // production image has no devDependencies, so an import would fail there.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pino-pretty') as PrettyFactory;
  } catch {
    return undefined;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = {
    level,
    base: null as null,
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: maskCapabilityTokens },
  };
  if (options.format === 'pretty') {
    const pretty = loadPretty();
    if (pretty) {
      return pino(
        base,
        pretty({
          colorize: options.destination ? false : process.stdout.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          singleLine: true, // one line per entry in a terminal
          ...(options.destination ? { destination: options.destination } : {}),
          sync: true, // lines in order with the banner's console output
        }),
      );
    }
    const fallback = pino(base, options.destination ?? pino.destination(1));
    fallback.warn('LOG_FORMAT=pretty, but pino-pretty is not installed: logging JSON');
    return fallback;
  }
  return pino(base, options.destination ?? pino.destination(1));
}

/** The message-first shape the Evrotrust client takes (src/evrotrust/types.ts). */
export function evrotrustLogger(logger: Logger): EvrotrustLogger {
  const log = logger.child({ component: 'evrotrust' });
  return {
    debug: (message, fields) => log.debug(fields, message),
    info: (message, fields) => log.info(fields, message),
    warn: (message, fields) => log.warn(fields, message),
  };
}

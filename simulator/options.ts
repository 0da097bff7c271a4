// Options of the simulator and their defaults.

import {
  DEFAULT_CALLBACK_ATTEMPTS,
  DEFAULT_CALLBACK_RETRY_DELAY_MS,
  DEFAULT_CALLBACK_SOURCE_ADDRESS,
  DEFAULT_CALLBACK_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_OTP_CODE_TTL_MS,
  DEFAULT_PORT,
  DEFAULT_PROCESSING_MS,
  DEFAULT_STATUS_NOT_FOUND_MS,
  SANDBOX_API_KEY,
  SANDBOX_VENDOR_NUMBER,
} from './defaults';

export interface SimulatorOptions {
  /** Default: SANDBOX_VENDOR_NUMBER. */
  vendorNumber?: string;
  /** Default: SANDBOX_API_KEY. */
  apiKey?: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; 0 = a free port; default 8090. */
  port?: number;
  /** Local address callbacks are sent from (e.g. '127.0.0.2'); default '127.0.0.1'. */
  callbackSourceAddress?: string;
  /** Total time one callback attempt may take; default 30 000 like Evrotrust. */
  callbackTimeoutMs?: number;
  /** Attempts in all per callback; default 3 like Evrotrust. */
  callbackAttempts?: number;
  /** Pause between attempts; default 5 s. */
  callbackRetryDelayMs?: number;
  /** How long status 2 stays `isProcessing: true` after signing; default 200 ms. */
  processingMs?: number;
  /** Lifetime of an SMS activation code (448 after it); default 5 minutes. */
  otpCodeTtlMs?: number;
  /** Largest accepted upload (450 above it); default 20 MiB. */
  maxFileBytes?: number;
  /** Persist state here so that a restart keeps pending signings; undefined = memory only. */
  stateDir?: string;
  /**
   * `/document/status` answers 443 for this long after a create, as Evrotrust does; default 2 s.
   * The window closes early once the transaction changes state (a signer acted, so it is visible).
   */
  statusNotFoundMs?: number;
  /**
   * How long after `dateExpire` the request actually expires (status 4); default 0. Evrotrust's own
   * lag is not documented; `null` never expires it, like a provider that leaves expiry to the vendor.
   */
  expiryDelayMs?: number | null;
  /** Whether withdrawing sends a callback with status 6 (unknown upstream); default false. */
  withdrawCallbacks?: boolean;
  /** Fastify's logger; default false. */
  logger?: boolean;
}

export type ResolvedOptions = Required<Omit<SimulatorOptions, 'stateDir' | 'expiryDelayMs'>> & {
  stateDir: string | undefined;
  expiryDelayMs: number | null;
};

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`simulator option ${name} must be a non-negative number`);
  return value;
}

export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    vendorNumber: options.vendorNumber ?? SANDBOX_VENDOR_NUMBER,
    apiKey: options.apiKey ?? SANDBOX_API_KEY,
    host: options.host ?? DEFAULT_HOST,
    port: options.port ?? DEFAULT_PORT,
    callbackSourceAddress: options.callbackSourceAddress ?? DEFAULT_CALLBACK_SOURCE_ADDRESS,
    callbackTimeoutMs: nonNegative('callbackTimeoutMs', options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS),
    callbackAttempts: nonNegative('callbackAttempts', options.callbackAttempts ?? DEFAULT_CALLBACK_ATTEMPTS),
    callbackRetryDelayMs: nonNegative('callbackRetryDelayMs', options.callbackRetryDelayMs ?? DEFAULT_CALLBACK_RETRY_DELAY_MS),
    processingMs: nonNegative('processingMs', options.processingMs ?? DEFAULT_PROCESSING_MS),
    otpCodeTtlMs: nonNegative('otpCodeTtlMs', options.otpCodeTtlMs ?? DEFAULT_OTP_CODE_TTL_MS),
    maxFileBytes: nonNegative('maxFileBytes', options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES),
    stateDir: options.stateDir,
    statusNotFoundMs: nonNegative('statusNotFoundMs', options.statusNotFoundMs ?? DEFAULT_STATUS_NOT_FOUND_MS),
    expiryDelayMs: options.expiryDelayMs === null ? null : nonNegative('expiryDelayMs', options.expiryDelayMs ?? 0),
    withdrawCallbacks: options.withdrawCallbacks ?? false,
    logger: options.logger ?? false,
  };
  if (!Number.isInteger(resolved.callbackAttempts) || resolved.callbackAttempts < 1) {
    throw new RangeError('simulator option callbackAttempts must be an integer of at least 1');
  }
  return resolved;
}

// `npm run simulator`: the simulator on its own. Settings come from the environment, validated at
// start; a bad value stops the process with one line naming the variable.

import { z } from 'zod';
import { firstZodIssue } from '../src/lib/zod-issues';
import { startSimulator, type Simulator } from './index';
import type { SimulatorOptions } from './options';

const port = z.coerce.number().int().min(0).max(65535);
const millis = z.coerce.number().int().nonnegative();
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: port.default(8090),
  SIMULATOR_CALLBACK_SOURCE: z.union([z.ipv4(), z.ipv6()]).default('127.0.0.1'),
  SIMULATOR_STATE_DIR: z.string().min(1).optional(),
  SIMULATOR_VENDOR_NUMBER: z.string().min(1).optional(),
  SIMULATOR_API_KEY: z.string().min(1).optional(),
  SIMULATOR_CALLBACK_TIMEOUT_MS: millis.optional(),
  SIMULATOR_CALLBACK_ATTEMPTS: z.coerce.number().int().min(1).optional(),
  SIMULATOR_CALLBACK_RETRY_DELAY_MS: millis.optional(),
  SIMULATOR_PROCESSING_MS: millis.optional(),
  SIMULATOR_OTP_TTL_MS: millis.optional(),
  SIMULATOR_MAX_FILE_BYTES: z.coerce.number().int().positive().optional(),
  SIMULATOR_STATUS_NOT_FOUND_MS: millis.optional(),
  SIMULATOR_WITHDRAW_CALLBACKS: flag.optional(),
  SIMULATOR_LOG: flag.optional(),
});

const EXPECTED: Record<string, string> = {
  SIMULATOR_HOST: 'a host name or address to listen on',
  SIMULATOR_PORT: 'a port number 0-65535',
  SIMULATOR_CALLBACK_SOURCE: 'a local IPv4 or IPv6 address such as 127.0.0.2',
  SIMULATOR_CALLBACK_ATTEMPTS: 'an integer of at least 1',
  SIMULATOR_MAX_FILE_BYTES: 'a positive number of bytes',
  SIMULATOR_WITHDRAW_CALLBACKS: 'true or false',
  SIMULATOR_LOG: 'true or false',
};

function readOptions(env: NodeJS.ProcessEnv): SimulatorOptions {
  // Empty variables count as unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([key, value]) => key.startsWith('SIMULATOR_') && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const name = firstZodIssue(parsed.error, 'SIMULATOR_*').path;
    console.error(`${name}: expected ${EXPECTED[name] ?? 'a non-negative integer (milliseconds) or a non-empty value'}`);
    process.exit(2);
  }
  const e = parsed.data;
  return {
    host: e.SIMULATOR_HOST,
    port: e.SIMULATOR_PORT,
    callbackSourceAddress: e.SIMULATOR_CALLBACK_SOURCE,
    stateDir: e.SIMULATOR_STATE_DIR,
    vendorNumber: e.SIMULATOR_VENDOR_NUMBER,
    apiKey: e.SIMULATOR_API_KEY,
    callbackTimeoutMs: e.SIMULATOR_CALLBACK_TIMEOUT_MS,
    callbackAttempts: e.SIMULATOR_CALLBACK_ATTEMPTS,
    callbackRetryDelayMs: e.SIMULATOR_CALLBACK_RETRY_DELAY_MS,
    processingMs: e.SIMULATOR_PROCESSING_MS,
    otpCodeTtlMs: e.SIMULATOR_OTP_TTL_MS,
    maxFileBytes: e.SIMULATOR_MAX_FILE_BYTES,
    statusNotFoundMs: e.SIMULATOR_STATUS_NOT_FOUND_MS,
    withdrawCallbacks: e.SIMULATOR_WITHDRAW_CALLBACKS,
    logger: e.SIMULATOR_LOG,
  };
}

async function main(): Promise<void> {
  const options = readOptions(process.env);
  let simulator: Simulator;
  try {
    simulator = await startSimulator(options);
  } catch (err) {
    console.error(`simulator: cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  console.log(`Evrotrust sandbox simulator
  signer's phone  ${simulator.url}/
  vendor API      ${simulator.vendorBaseUrl}
  controls        ${simulator.url}/sim/api
  callbacks from  ${options.callbackSourceAddress ?? '127.0.0.1'}${options.stateDir ? `\n  state kept in   ${options.stateDir}` : ' (state in memory only)'}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`simulator: ${signal}, stopping`);
    simulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`simulator: error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();

// `npm run cli -- <command> …`: the business operations from a shell, over the same SigningService
// as the HTTP API (through createSigningClient). Configuration comes from the environment exactly as
// for `npm start`; no Temporal configured (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE) and
// no MONGODB_URI mean the embedded defaults it runs.
// Prints JSON on stdout; errors are JSON `{ error, message }` on stderr.
// Exit codes: 0 done, 1 the operation failed, 2 usage or configuration error.
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createSigningClient, SigningError, type ListSigningsRequest, type SigningClient, type StartRequest } from './signings/client';
import { ConfigError, loadConfig, type Config } from './config';
import { MAX_GROUP_DOCUMENTS } from './signings/schemas';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  start --file <path> --signer <ЕГН/ЛНЧ> [options]   start a signing; prints { id, status, created }
      --signer <id>          a signer's identification number (repeat for more signers)
      --phone <+359…>        the phone of the signer at the same position (needed for --method otp)
      --email <address>      the e-mail of the signer at the same position
      --country <BG>         the country of the signer at the same position (one value: all signers)
      --method app|otp       how the signer signs (default app)
      --expires <3d>         how long the request lives at Evrotrust (default SIGNING_DEFAULT_EXPIRY)
      --reference <text>     your reference; the same reference again returns the same signing
      --signature-type <t>   Evrotrust signature type: PDF1, PDF2 (PAdES baseline / long-term), XML1–3, CAD1, CAD2
      --idempotency-key <k>  like --reference, without storing a reference on the signing
      --notify-url <url>     where the final state is POSTed (Standard Webhooks; https, or http to localhost)
      --description <text>   shown to the signer (several --file: once for all, or once per file)
      --filename <name>      the document's name (default: the file's own name; one --file only)
      --file <path> (again)  2 to 20 --file: one group signing of every file (method app)
      --optional <n>         with several --file: the n-th file (not the first) may be left unsigned
  status <id>                the signing as it is now
  list [options]             signings, newest first; prints { items, nextCursor }
      --status <s>           pending, signed, rejected, expired, withdrawn or failed (repeat, or comma-separate)
      --reference <text>     only the signing started with this reference
      --created-after <t>    created at or after this ISO-8601 instant, e.g. 2026-12-01T00:00:00Z
      --created-before <t>   created before this ISO-8601 instant
      --limit <n>            page size, 1–200 (default 50)
      --cursor <c>           the nextCursor of the previous page (with the same filters)
  result <id>                wait until the signing is final, then print it
  withdraw <id>              withdraw a pending signing
  otp <id> <code>            submit the SMS code of an OTP signing
  resend-otp <id>            send the OTP signer a new SMS code
  download <id> [--out <file>|-] [--force] [--document <n>]
                             save the signed file (default: its own name in the current directory;
                             - writes the bytes to stdout; --force overwrites an existing file;
                             --document <n>: the n-th signed file of a group signing)

Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE,
TEMPORAL_CONFIG_FILE, TEMPORAL_TASK_QUEUE, MONGODB_URI, SIGNING_DEFAULT_EXPIRY, SIGNING_POLL_INTERVAL,
NOTIFY_URL, NOTIFY_SECRET, NOTIFY_GIVE_UP_AFTER (see the README).
`;

class UsageError extends Error {}

/** A failure with an error code of the CLI's own (the service's errors carry theirs). */
class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

type Args = { positionals: string[]; values: Record<string, string | boolean | string[] | undefined> };
type Operation = (client: SigningClient) => Promise<unknown>;

interface Command {
  positionals: string[];
  options: Options;
  /** Checks the arguments (and reads input files) before anything connects, then returns the operation. */
  prepare(args: Args): Promise<Operation> | Operation;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

async function buildStart(values: Record<string, unknown>): Promise<{ request: StartRequest; idempotencyKey?: string }> {
  const files = list(values.file);
  if (files.length === 0) throw new UsageError('start needs --file <path>');
  if (files.length > MAX_GROUP_DOCUMENTS) throw new UsageError(`start takes at most ${MAX_GROUP_DOCUMENTS} --file (one group signing)`);
  const descriptions = list(values.description);
  if (descriptions.length > 1 && descriptions.length !== files.length) throw new UsageError('give --description once, or once per --file');
  if (files.length > 1 && str(values.filename) !== undefined) throw new UsageError('--filename is for one --file only');
  const optional = list(values.optional).map(Number);
  if (optional.some((n) => !Number.isInteger(n) || n < 2 || n > files.length))
    throw new UsageError(`--optional takes the position of a --file other than the first (2 to ${files.length})`);
  const ids = list(values.signer);
  const phones = list(values.phone);
  const emails = list(values.email);
  const countries = list(values.country);
  const count = Math.max(ids.length, phones.length, emails.length);
  if (count === 0) throw new UsageError('start needs at least one --signer (or --phone / --email)');
  if (countries.length > 1 && countries.length !== count) throw new UsageError('give --country once for all signers, or once per signer');
  const signers = Array.from({ length: count }, (_, i) => {
    const country = countries.length === 1 ? countries[0] : countries[i];
    return {
      ...(ids[i] ? { identificationNumber: ids[i] } : {}),
      ...(country ? { country } : {}),
      ...(phones[i] ? { phone: phones[i] } : {}),
      ...(emails[i] ? { email: emails[i] } : {}),
    };
  });
  const contents: Buffer[] = [];
  for (const file of files) {
    try {
      contents.push(await readFile(file));
    } catch (err) {
      throw new CliError('file', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  // One --description for one file; for a group, once for every document or once per document.
  const descriptionOf = (i: number) => (descriptions.length > 1 ? descriptions[i] : descriptions[0]);
  const method = str(values.method);
  if (method !== undefined && method !== 'app' && method !== 'otp') throw new UsageError('--method must be app or otp');
  const common: Omit<StartRequest, 'document' | 'documents'> = {
    signers,
    ...(method ? { method } : {}),
    ...(str(values.expires) ? { expiresIn: str(values.expires) } : {}),
    ...(str(values.reference) ? { reference: str(values.reference) } : {}),
    // Checked with the rest of the request by the service's schema (a clear message names the choices).
    ...(str(values['signature-type']) ? { signatureType: str(values['signature-type']) as StartRequest['signatureType'] } : {}),
    ...(str(values['notify-url']) ? { notifyUrl: str(values['notify-url']) } : {}),
  };
  const request: StartRequest =
    files.length === 1
      ? {
          ...common,
          document: {
            filename: str(values.filename) ?? basename(files[0]!),
            content: contents[0]!,
            ...(descriptionOf(0) ? { description: descriptionOf(0) } : {}),
          },
        }
      : {
          ...common,
          documents: files.map((file, i) => ({
            filename: basename(file),
            content: contents[i]!,
            ...(descriptionOf(i) ? { description: descriptionOf(i) } : {}),
            ...(optional.includes(i + 1) ? { optional: true } : {}),
          })),
        };
  const idempotencyKey = str(values['idempotency-key']);
  return { request, ...(idempotencyKey ? { idempotencyKey } : {}) };
}

/** The list filter from the options, as strings: the service's schema checks them (same messages as the HTTP API). */
function buildList(values: Record<string, unknown>): ListSigningsRequest {
  const statuses = list(values.status);
  const given = (key: string, option: string) => (str(values[option]) !== undefined ? { [key]: str(values[option]) } : {});
  return {
    ...(statuses.length > 0 ? { status: statuses.join(',') } : {}),
    ...given('reference', 'reference'),
    ...given('createdAfter', 'created-after'),
    ...given('createdBefore', 'created-before'),
    ...given('limit', 'limit'),
    ...given('cursor', 'cursor'),
  };
}

async function download(
  client: SigningClient,
  id: string,
  out: string | undefined,
  force: boolean,
  document: number | undefined,
): Promise<unknown> {
  const file = document === undefined ? await client.signedDocument(id) : await client.signedGroupDocument(id, document);
  const bytes = Buffer.from(file.content.buffer, file.content.byteOffset, file.content.byteLength);
  if (out === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
    return undefined;
  }
  // The default name is the signed file's own, reduced to a plain name in the current directory.
  const target = out ?? (basename(file.filename.replace(/\\/g, '/')) || `${id}.bin`);
  try {
    await writeFile(target, bytes, { flag: force ? 'w' : 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError('exists', `${target} exists; choose another --out or add --force`);
    throw new CliError('file', `cannot write ${target}: ${code ?? 'error'}`);
  }
  return { id, file: target, filename: file.filename, contentType: file.contentType, size: bytes.byteLength };
}

const COMMANDS: Record<string, Command> = {
  start: {
    positionals: [],
    options: {
      file: { type: 'string', multiple: true },
      optional: { type: 'string', multiple: true },
      signer: { type: 'string', multiple: true },
      phone: { type: 'string', multiple: true },
      email: { type: 'string', multiple: true },
      country: { type: 'string', multiple: true },
      method: { type: 'string' },
      expires: { type: 'string' },
      reference: { type: 'string' },
      'signature-type': { type: 'string' },
      'idempotency-key': { type: 'string' },
      'notify-url': { type: 'string' },
      description: { type: 'string', multiple: true },
      filename: { type: 'string' },
    },
    prepare: async ({ values }) => {
      const { request, idempotencyKey } = await buildStart(values);
      return (client) => client.start(request, idempotencyKey ? { idempotencyKey } : undefined);
    },
  },
  status: {
    positionals: ['id'],
    options: {},
    prepare:
      ({ positionals: [id] }) =>
      (client) =>
        client.status(id as string),
  },
  list: {
    positionals: [],
    options: {
      status: { type: 'string', multiple: true },
      reference: { type: 'string' },
      'created-after': { type: 'string' },
      'created-before': { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    prepare: ({ values }) => {
      const filter = buildList(values);
      return (client) => client.list(filter);
    },
  },
  result: {
    positionals: ['id'],
    options: {},
    prepare:
      ({ positionals: [id] }) =>
      (client) =>
        client.result(id as string),
  },
  withdraw: {
    positionals: ['id'],
    options: {},
    prepare:
      ({ positionals: [id] }) =>
      (client) =>
        client.withdraw(id as string),
  },
  otp: {
    positionals: ['id', 'code'],
    options: {},
    prepare:
      ({ positionals: [id, code] }) =>
      async (client) => {
        await client.submitOtp(id as string, code as string);
        return { id, accepted: true };
      },
  },
  'resend-otp': {
    positionals: ['id'],
    options: {},
    prepare:
      ({ positionals: [id] }) =>
      async (client) => {
        await client.resendOtp(id as string);
        return { id, resent: true };
      },
  },
  download: {
    positionals: ['id'],
    options: { out: { type: 'string', short: 'o' }, force: { type: 'boolean' }, document: { type: 'string' } },
    prepare: ({ positionals: [id], values }) => {
      const given = str(values.document);
      const document = given === undefined ? undefined : Number(given);
      if (document !== undefined && (!Number.isInteger(document) || document < 1))
        throw new UsageError('--document takes the 1-based position of a group document, e.g. --document 2');
      return (client) => download(client, id as string, str(values.out), values.force === true, document);
    },
  },
};

const firstLine = (err: unknown): string => (err instanceof Error ? (err.message.split('\n')[0] ?? err.name) : String(err));

function fail(code: string, message: string): void {
  process.stderr.write(`${JSON.stringify({ error: code, message })}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? process.stderr : process.stdout).write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }

  let operation: Operation;
  try {
    const parsed: Args = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (parsed.positionals.length !== command.positionals.length) {
      const expected = command.positionals.map((p) => `<${p}>`).join(' ');
      throw new UsageError(`${name} takes ${expected || 'no arguments'}`);
    }
    operation = await command.prepare(parsed);
  } catch (err) {
    if (err instanceof CliError) {
      fail(err.code, err.message);
      return 1;
    }
    // parseArgs' own errors (unknown option, missing value) are usage errors too.
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\nRun "npm run cli -- --help" for the commands.\n`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let client: SigningClient;
  try {
    client = await createSigningClient({
      // Configured Temporal (TLS, API key, profile) as the service reads it; else npm start's dev server.
      ...(config.temporal.address !== undefined ? { temporal: config.temporal } : { temporalAddress: '127.0.0.1:7233' }),
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      mongoUri: config.mongodb.uri ?? `mongodb://127.0.0.1:27017/${config.mongodb.dbName}`,
      dbName: config.mongodb.dbName,
      defaultExpiry: config.signingDefaultExpiryMs,
      pollInterval: config.signingPollIntervalMs,
      // In sandbox mode the service keeps a generated secret in DATA_DIR (src/dependencies.ts).
      notify: {
        secretConfigured: config.notify.secret !== undefined || config.sandbox,
        ...(config.notify.defaultUrl ? { defaultUrl: config.notify.defaultUrl } : {}),
        giveUpAfter: config.notify.giveUpAfterMs,
      },
    });
  } catch (err) {
    fail(
      'unavailable',
      `cannot connect: ${firstLine(err)} (is the service's Temporal and MongoDB running? see TEMPORAL_ADDRESS or TEMPORAL_PROFILE / MONGODB_URI)`,
    );
    return 1;
  }
  try {
    const output = await operation(client);
    if (output !== undefined) process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof SigningError || err instanceof CliError) fail(err.code, err.message);
    else fail('internal', firstLine(err));
    return 1;
  } finally {
    await client.close().catch(() => {});
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      fail('internal', err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}

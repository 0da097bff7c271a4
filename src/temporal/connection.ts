// The Temporal connection from the environment, read through @temporalio/envconfig: the variables and
// temporal.toml profiles of Temporal's CLI (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TEMPORAL_TLS*, TEMPORAL_GRPC_META_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE). One result feeds
// Connection.connect, NativeConnection.connect and new Client (README "Configuration").
//
// Temporal is *configured* when TEMPORAL_ADDRESS, TEMPORAL_PROFILE or TEMPORAL_CONFIG_FILE is set.
// Otherwise nothing is read from any file, so a developer's ~/.config/temporalio/temporal.toml (a
// Cloud profile, say) never leaks into `npm start` or `npm test`, which then run their own dev server.
// A file is read only when named (TEMPORAL_CONFIG_FILE) or when a profile is chosen (TEMPORAL_PROFILE,
// from TEMPORAL_CONFIG_FILE or the CLI's default path); environment variables override the profile.
//
// Every refusal is a TemporalConfigError naming the variable (or the profile's key) and what it
// expects. Certificates and keys are read and parsed here, at start, so a bad file stops the process
// instead of failing each connection attempt; no error or log line carries an API key or key material.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfigFromToml,
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';

export class TemporalConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expectation: string,
  ) {
    super(`${variable}: ${expectation}`);
    this.name = 'TemporalConfigError';
  }
}

/**
 * A connection to Temporal that could not be opened, with the transport's reason: the SDK's own
 * message ("Failed to connect to Temporal server") hides it in `cause`. No secret is in either.
 */
export class TemporalConnectError extends Error {
  constructor(connection: TemporalConnection, address: string | undefined, cause: unknown) {
    super(`cannot connect to Temporal ${describeTemporalConnection({ ...connection, address })}: ${errorChain(cause)}`, { cause });
    this.name = 'TemporalConnectError';
  }
}

function errorChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    if (!parts.includes(e.message)) parts.push(e.message.split('\n')[0] ?? '');
  }
  return parts.length ? parts.join(': ') : String(err);
}

/** What Connection.connect and NativeConnection.connect take (both accept this shape). */
export interface TemporalConnectOptions {
  address: string;
  /** true: TLS with the system's roots; an object: a CA, a server name, a client certificate. */
  tls?: TLSConfig | boolean;
  /** Sent as `authorization: Bearer <apiKey>` (Temporal Cloud API keys). */
  apiKey?: string;
  /** gRPC headers sent with every call (TEMPORAL_GRPC_META_*). */
  metadata?: Record<string, string>;
}

export interface TemporalConnection extends Partial<TemporalConnectOptions> {
  /** Unset when no Temporal is configured: `npm start` then runs its embedded dev server. */
  address?: string;
  namespace: string;
  /** Where the settings came from, for the banner and errors: `environment`, or `profile 'x' of <file>`. */
  source: string;
}

const DEFAULT_NAMESPACE = 'default';
const DEFAULT_PROFILE = 'default';
const CHOOSERS = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'] as const;
const GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';
/** Variables that only make sense with a configured Temporal: alone they are a mistake, not a choice. */
const CONNECTION_VARIABLES = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
] as const;

// The scalar values, whether from a variable or a profile, are checked with these (README "Configuration").
const EXPECT = {
  address: 'expected host:port of a Temporal frontend, e.g. 127.0.0.1:7233 or my-ns.a1b2c.tmprl.cloud:7233',
  namespace: 'expected a Temporal namespace name, e.g. default or my-ns.a1b2c',
  apiKey: 'expected an API key of printable characters, without spaces or line breaks',
  bool: 'expected true or false',
  serverName: 'expected the host name in the server certificate, e.g. temporal.example.com',
} as const;
const addressSchema = z.string().refine((s) => isHostPort(s), EXPECT.address);
const namespaceSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, EXPECT.namespace);
// Never echoed: zod's messages name the expectation, not the value.
const apiKeySchema = z.string().regex(/^[\x21-\x7e]+$/, EXPECT.apiKey);
// envconfig reads anything but 1/true as false: TEMPORAL_TLS=yes would quietly turn TLS off.
const boolSchema = z.string().regex(/^(true|false|1|0)$/, EXPECT.bool);
const serverNameSchema = z.string().regex(/^[A-Za-z0-9.-]+$/, EXPECT.serverName);

/** `value` checked with `schema`; a refusal names `variable` (and, for a profile's value, its key). */
function checked<T>(schema: z.ZodType<T>, value: unknown, variable: string, label = ''): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new TemporalConfigError(variable, `${label}${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** host:port with a DNS name, an IPv4 address or a bracketed IPv6 address; port 1–65535. */
export function isHostPort(address: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(address);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

/**
 * The environment as this module reads it: blank values count as unset (as everywhere in
 * src/config.ts), except TEMPORAL_GRPC_META_*, where an empty value removes a profile's header.
 */
function effectiveEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (v.trim() === '' && !k.startsWith(GRPC_META_PREFIX)) continue;
    out[k] = k.startsWith('TEMPORAL_') && !k.startsWith(GRPC_META_PREFIX) && k !== 'TEMPORAL_API_KEY' ? v.trim() : v;
  }
  return out;
}

/** The CLI's default config file (the same rule as @temporalio/envconfig's, which does not export it). */
function defaultConfigFile(env: Record<string, string>): string {
  if (platform() === 'darwin') return join(env.HOME ?? homedir(), 'Library', 'Application Support', 'temporalio', 'temporal.toml');
  if (platform() === 'win32') return join(env.APPDATA ?? homedir(), 'temporalio', 'temporal.toml');
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.config'), 'temporalio', 'temporal.toml');
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'unreadable';
}

/** Reads the Temporal connection from the environment; throws TemporalConfigError naming what is wrong. */
export function loadTemporalConnection(env: NodeJS.ProcessEnv = process.env): TemporalConnection {
  const e = effectiveEnv(env);
  for (const name of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'] as const)
    if (e[name] !== undefined) checked(boolSchema, e[name], name);
  if (e.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' || e.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1')
    throw new TemporalConfigError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
      "not supported by Temporal's TypeScript SDK, which always verifies the server's name; expected false or unset, and TEMPORAL_TLS_SERVER_NAME for a certificate issued to another name",
    );

  const chosen = CHOOSERS.filter((k) => e[k] !== undefined);
  if (chosen.length === 0) {
    const stray = [...CONNECTION_VARIABLES, ...Object.keys(e).filter((k) => k.startsWith(GRPC_META_PREFIX))].find(
      (k) => e[k] !== undefined,
    );
    if (stray)
      throw new TemporalConfigError(
        stray,
        'set, but no Temporal is configured to apply it to; expected TEMPORAL_ADDRESS (or TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE) as well',
      );
    return { namespace: checked(namespaceSchema, e.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE, 'TEMPORAL_NAMESPACE'), source: 'embedded' };
  }

  for (const [path, data] of [
    ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'],
    ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'],
    ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
  ] as const) {
    if (e[path] !== undefined && e[data] !== undefined) throw new TemporalConfigError(path, `expected ${path} or ${data}, not both`);
  }

  const file = readProfileFile(e);
  let profile: ClientConfigProfile;
  try {
    profile = file
      ? loadClientConfigProfile({ profile: file.profile, configSource: { data: file.text }, overrideEnvVars: withoutMeta(e) })
      : loadClientConfigProfile({ disableFile: true, overrideEnvVars: withoutMeta(e) });
  } catch (err) {
    // envconfig's own refusals ("Cannot specify both client_cert_path and client_cert_data") name the key.
    throw new TemporalConfigError(file?.variable ?? 'TEMPORAL_ADDRESS', `${file ? `${file.label}: ` : ''}${briefMessage(err)}`);
  }
  const source = file ? file.label : 'environment';
  // A value from a variable is named by it; one from the profile by the variable that chose the
  // profile, with the profile and its key in the text.
  const origin = (envName: string, tomlKey: string): [string, string] =>
    e[envName] !== undefined || !file ? [envName, ''] : [file.variable, `${file.label}: ${tomlKey}: `];

  if (profile.address === undefined)
    throw new TemporalConfigError(
      file?.variable ?? 'TEMPORAL_ADDRESS',
      file ? `${file.label} has no address; expected address = "host:port" in it, or TEMPORAL_ADDRESS` : EXPECT.address,
    );
  checked(addressSchema, profile.address, ...origin('TEMPORAL_ADDRESS', 'address'));
  const namespace = checked(namespaceSchema, profile.namespace ?? DEFAULT_NAMESPACE, ...origin('TEMPORAL_NAMESPACE', 'namespace'));
  if (profile.apiKey !== undefined) checked(apiKeySchema, profile.apiKey, ...origin('TEMPORAL_API_KEY', 'api_key'));
  if (profile.tls?.serverName !== undefined)
    checked(serverNameSchema, profile.tls.serverName, ...origin('TEMPORAL_TLS_SERVER_NAME', 'tls.server_name'));

  const metadata = grpcMetadata(profile.grpcMeta, e, file?.variable);
  if (metadata?.authorization !== undefined && profile.apiKey !== undefined)
    throw new TemporalConfigError(
      'TEMPORAL_API_KEY',
      'an API key sets the authorization header, which the gRPC metadata (TEMPORAL_GRPC_META_AUTHORIZATION or grpc_meta) sets too; expected one of them',
    );

  if (profile.tls) profile.tls = readTlsMaterial(profile.tls, e, file);

  const { connectionOptions } = toClientOptions({ ...profile, grpcMeta: metadata });
  const tls = connectionOptions.tls ?? undefined;
  const result: TemporalConnection = {
    address: profile.address,
    namespace,
    ...(tls !== undefined ? { tls } : {}),
    ...(profile.apiKey !== undefined ? { apiKey: profile.apiKey } : {}),
    ...(metadata !== undefined && Object.keys(metadata).length > 0 ? { metadata } : {}),
    source,
  };
  return hideSecrets(result);
}

/** What Connection.connect / NativeConnection.connect take; `address` overrides (npm start's embedded server). */
export function temporalConnectOptions(connection: TemporalConnection, address = connection.address): TemporalConnectOptions {
  if (address === undefined) throw new TemporalConfigError('TEMPORAL_ADDRESS', 'required: no Temporal is configured');
  return {
    address,
    ...(connection.tls !== undefined ? { tls: connection.tls } : {}),
    ...(connection.apiKey !== undefined ? { apiKey: connection.apiKey } : {}),
    ...(connection.metadata !== undefined ? { metadata: { ...connection.metadata } } : {}),
  };
}

/** One line about the connection for a banner: address, namespace, TLS, and never a secret. */
export function describeTemporalConnection(connection: TemporalConnection): string {
  const tls =
    connection.tls === undefined || connection.tls === false
      ? 'plaintext'
      : connection.tls === true || !connection.tls.clientCertPair
        ? 'TLS'
        : 'mTLS';
  return `${connection.address ?? '(embedded)'} namespace ${connection.namespace}, ${tls}${connection.apiKey ? ', API key' : ''} (${connection.source})`;
}

interface ProfileFile {
  /** The variable that made us read it, named in errors about its content. */
  variable: 'TEMPORAL_PROFILE' | 'TEMPORAL_CONFIG_FILE';
  path: string;
  profile: string;
  text: string;
  label: string;
}

/** The temporal.toml to read, or undefined when none was chosen (TEMPORAL_ADDRESS alone). */
function readProfileFile(e: Record<string, string>): ProfileFile | undefined {
  const explicitFile = e.TEMPORAL_CONFIG_FILE;
  if (explicitFile === undefined && e.TEMPORAL_PROFILE === undefined) return undefined;
  const path = explicitFile ?? defaultConfigFile(e);
  const profile = e.TEMPORAL_PROFILE ?? DEFAULT_PROFILE;
  const variable = e.TEMPORAL_PROFILE !== undefined ? 'TEMPORAL_PROFILE' : 'TEMPORAL_CONFIG_FILE';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (explicitFile !== undefined)
      throw new TemporalConfigError('TEMPORAL_CONFIG_FILE', `cannot read ${path} (${errnoCode(err)}); expected a readable temporal.toml`);
    throw new TemporalConfigError(
      'TEMPORAL_PROFILE',
      `profile '${profile}' chosen, but ${path} cannot be read (${errnoCode(err)}); expected TEMPORAL_CONFIG_FILE naming the temporal.toml that has it`,
    );
  }
  let names: string[];
  try {
    names = Object.keys(loadClientConfigFromToml(Buffer.from(text), { strict: false }).profiles);
  } catch (err) {
    // smol-toml's message quotes the offending line, which may hold an api_key: give its position only.
    const at = err as { line?: unknown; column?: unknown };
    const pos = typeof at.line === 'number' ? ` (line ${at.line}${typeof at.column === 'number' ? `, column ${at.column}` : ''})` : '';
    throw new TemporalConfigError(variable, `${path} is not a valid temporal.toml${pos}; expected TOML with [profile.<name>] tables`);
  }
  if (!names.includes(profile))
    throw new TemporalConfigError(
      variable,
      `${path} has no profile '${profile}'; expected one of: ${names.length ? names.join(', ') : '(none)'}${variable === 'TEMPORAL_CONFIG_FILE' ? ' (choose with TEMPORAL_PROFILE)' : ''}`,
    );
  return { variable, path, profile, text, label: `profile '${profile}' of ${path}` };
}

/** The environment without TEMPORAL_GRPC_META_*: grpcMetadata applies those itself. */
function withoutMeta(e: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(e).filter(([k]) => !k.startsWith(GRPC_META_PREFIX)));
}

/** A header name as the CLI sends it: lower case, every `_` a `-`. */
const headerName = (raw: string): string => raw.toLowerCase().replace(/_/g, '-');

/**
 * The profile's grpc_meta, then TEMPORAL_GRPC_META_* over it (an empty value removes a header), as
 * the CLI does. Done here, not by envconfig: it turns only the first `_` of a name into `-`, so
 * TEMPORAL_GRPC_META_X_TENANT_ID would neither match nor remove the profile's x-tenant-id.
 */
function grpcMetadata(
  fromProfile: Record<string, string> | undefined,
  e: Record<string, string>,
  fileVariable: string | undefined,
): Record<string, string> | undefined {
  const out = new Map<string, { value: string; variable: string }>();
  for (const [raw, value] of Object.entries(fromProfile ?? {}))
    out.set(headerName(raw), { value, variable: fileVariable ?? 'TEMPORAL_CONFIG_FILE' });
  for (const [k, value] of Object.entries(e)) {
    if (!k.startsWith(GRPC_META_PREFIX)) continue;
    const key = headerName(k.slice(GRPC_META_PREFIX.length));
    if (value === '') out.delete(key);
    else out.set(key, { value, variable: k });
  }
  if (out.size === 0) return undefined;
  const result: Record<string, string> = {};
  for (const [key, { value, variable }] of out) {
    // -bin headers carry Base64 binary values; nothing here needs them.
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(key) || key.endsWith('-bin'))
      throw new TemporalConfigError(variable, `gRPC header '${key}': expected a header name of letters, digits, - and .`);
    if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value))
      throw new TemporalConfigError(variable, `gRPC header '${key}': expected a value of printable ASCII characters`);
    result[key] = value;
  }
  return result;
}

type TlsSettings = NonNullable<ClientConfigProfile['tls']>;
type Material = 'certificate' | 'CA certificate' | 'private key';

/**
 * Reads and parses each certificate and key once, so a missing or garbled file is refused at start
 * with the variable that named it; the bytes then go on as data (envconfig would read them again).
 */
function readTlsMaterial(tls: TlsSettings, e: Record<string, string>, file: ProfileFile | undefined): TlsSettings {
  const read = (source: ConfigDataSource | undefined, envBase: string, tomlKey: string, kind: Material) => {
    if (source === undefined) return undefined;
    const fromEnv =
      e[`${envBase}_PATH`] !== undefined ? `${envBase}_PATH` : e[`${envBase}_DATA`] !== undefined ? `${envBase}_DATA` : undefined;
    const isPath = 'path' in source;
    const variable = fromEnv ?? file?.variable ?? `${envBase}_${isPath ? 'PATH' : 'DATA'}`;
    const label = fromEnv || !file ? '' : `${file.label}: ${tomlKey}_${isPath ? 'path' : 'data'}: `;
    let bytes: Buffer;
    if ('path' in source) {
      try {
        bytes = readFileSync(source.path);
      } catch (err) {
        throw new TemporalConfigError(
          variable,
          `${label}cannot read ${source.path} (${errnoCode(err)}); expected a readable PEM ${kind} file`,
        );
      }
    } else bytes = Buffer.from(source.data);
    const parsed = parsePem(bytes, kind);
    if (parsed === undefined) throw new TemporalConfigError(variable, `${label}expected a PEM ${kind}${isPath ? ' file' : ''}`);
    return { variable, bytes, parsed };
  };
  const cert = read(tls.clientCert, 'TEMPORAL_TLS_CLIENT_CERT', 'client_cert', 'certificate');
  const key = read(tls.clientKey, 'TEMPORAL_TLS_CLIENT_KEY', 'client_key', 'private key');
  const ca = read(tls.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT', 'server_ca_cert', 'CA certificate');
  // envconfig drops a certificate without its key (or the reverse) silently: the server would then
  // refuse the handshake with no hint why.
  if (cert && !key)
    throw new TemporalConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', `required with the client certificate (${cert.variable})`);
  if (key && !cert) throw new TemporalConfigError('TEMPORAL_TLS_CLIENT_CERT_PATH', `required with the client key (${key.variable})`);
  if (cert && key && !(cert.parsed as X509Certificate).checkPrivateKey(key.parsed as KeyObject))
    throw new TemporalConfigError(key.variable, `expected the private key of the client certificate (${cert.variable}); it is another key`);
  return {
    ...tls,
    clientCert: cert && { data: new Uint8Array(cert.bytes) },
    clientKey: key && { data: new Uint8Array(key.bytes) },
    serverCACert: ca && { data: new Uint8Array(ca.bytes) },
  };
}

function parsePem(bytes: Buffer, kind: Material): X509Certificate | KeyObject | undefined {
  const text = bytes.toString('utf8');
  try {
    if (kind === 'private key') return text.includes('PRIVATE KEY-----') ? createPrivateKey(text) : undefined;
    return text.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(text) : undefined;
  } catch {
    return undefined; // the parser's message may quote the input
  }
}

/** The first line of an error's message (envconfig's own texts name keys, never values). */
function briefMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'invalid';
}

/** console.log, util.inspect and JSON.stringify of the connection show no API key or client key. */
function hideSecrets(connection: TemporalConnection): TemporalConnection {
  const redacted = () => ({
    ...connection,
    ...(connection.apiKey !== undefined ? { apiKey: '[redacted]' } : {}),
    ...(typeof connection.tls === 'object' && connection.tls.clientCertPair
      ? { tls: { ...connection.tls, clientCertPair: { crt: '[certificate]', key: '[redacted]' } } }
      : {}),
  });
  Object.defineProperties(connection, {
    toJSON: { value: redacted, enumerable: false },
    [inspect.custom]: { value: () => redacted(), enumerable: false },
  });
  return connection;
}

// Typed client of the Evrotrust vendor API (facts and their sources: docs/evrotrust.md).
//
// Every call: one POST, `vendorNumber` in the body, `Authorization: <hex HMAC>` over the exact bytes
// sent (for multipart, the `data` string), a per-call timeout, the answer validated with zod, and any
// failure turned into a typed EvrotrustError that says whether retrying can help (errors.ts).
// Logs carry the endpoint, HTTP status, duration and Evrotrust ids only: never personal data.
//
// The parts: transport.ts (the wire: POST, Authorization, timeouts, typed errors), endpoints.ts
// (one function per vendor API call, and the request bodies), files.ts (content type, checksum and
// upload name of the document), types.ts. Everything is importable from here.
import { createPublicKey } from 'node:crypto';
import * as endpoints from './endpoints';
import { resolveSigningOptions } from './endpoints';
import { publicKeyParam } from './keys';
import { createTransport } from './transport';
import type { EvrotrustClient, EvrotrustClientOptions } from './types';
import { DEFAULT_DOWNLOAD_LIMITS } from './limits';

export * from './types';
export { DEFAULT_SIGNING_OPTIONS, matchTransactions, pickIdentifier, resolveSigningOptions, signInfoFor, toUnixSeconds } from './endpoints';
export { contentTypeFor, isPdf, MAX_UPLOAD_FILENAME_CHARS, sha512Hex, sniffContentType, uploadFilename } from './files';
export { asciiJson, failedBeforeSending } from './transport';
export { DEFAULT_DOWNLOAD_LIMITS, DownloadTooLargeError, type DownloadLimit, type DownloadLimits } from './limits';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_TRANSFER_TIMEOUT_MS = 120_000;

export function createEvrotrustClient(options: EvrotrustClientOptions): EvrotrustClient {
  const { vendorNumber, apiKey, logger } = options;
  if (!vendorNumber) throw new TypeError('createEvrotrustClient: vendorNumber is required');
  if (!apiKey) throw new TypeError('createEvrotrustClient: apiKey is required');
  if (options.maxDownloadBytes !== undefined && !(Number.isInteger(options.maxDownloadBytes) && options.maxDownloadBytes > 0)) {
    throw new TypeError('createEvrotrustClient: maxDownloadBytes must be a positive integer');
  }
  const baseUrl = new URL(options.baseUrl).toString().replace(/\/+$/, '');
  try {
    // Fail at start-up, not on the first signing, when the key is not a public key PEM.
    createPublicKey(options.publicKeyPem);
  } catch {
    throw new TypeError('createEvrotrustClient: publicKeyPem is not a valid public key PEM');
  }
  if (!options.publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new TypeError('createEvrotrustClient: publicKeyPem must be an SPKI "BEGIN PUBLIC KEY" PEM');
  }
  const api: endpoints.EndpointContext = {
    transport: createTransport({
      baseUrl,
      apiKey,
      logger,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      transferTimeoutMs: options.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS,
    }),
    vendorNumber,
    publicKey: publicKeyParam(options.publicKeyPem), // Base64 of the whole PEM text (docs/evrotrust.md)
    signing: resolveSigningOptions(options.signing),
    logger,
    maxDownloadBytes: options.maxDownloadBytes ?? DEFAULT_DOWNLOAD_LIMITS.maxDownloadBytes,
  };

  return {
    checkUser: (user, call) => endpoints.checkUser(api, user, call),
    sendOnline: (input, call) => endpoints.sendOnline(api, input, call),
    sendOffline: (input, call) => endpoints.sendOffline(api, input, call),
    activateOffline: (transactionID, activationCode, call) => endpoints.activateOffline(api, transactionID, activationCode, call),
    resendOfflineCode: (transactionID, phone, call) => endpoints.resendOfflineCode(api, transactionID, phone, call),
    status: (transactionID, call) => endpoints.status(api, transactionID, call),
    download: (transactionID, call) => endpoints.download(api, transactionID, call),
    withdraw: (threadID, call) => endpoints.withdraw(api, threadID, call),
    sendGroupOnline: (input, call) => endpoints.sendGroupOnline(api, input, call),
    groupStatus: (transactionID, call) => endpoints.status(api, transactionID, call, '/document/group/status'),
    groupDownload: (transactionID, call) => endpoints.download(api, transactionID, call, '/document/group/download'),
    threadStatus: (threadID, call) => endpoints.threadStatus(api, threadID, call),
  };
}

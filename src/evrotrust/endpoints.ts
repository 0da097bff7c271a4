// One function per vendor API call (Swagger v1.0.154, docs/evrotrust.md): what goes into its body,
// which answer schema it expects, and what the caller gets back. The wire itself: transport.ts.
import {
  COVERAGES,
  OTP_PHONE_PATTERN,
  SIGNATURE_TYPES,
  sendOfflineInputSchema,
  sendOfflineResponseSchema,
  sendGroupOnlineInputSchema,
  sendGroupOnlineResponseSchema,
  sendOnlineInputSchema,
  sendOnlineResponseSchema,
  signerSchema,
  statusResponseSchema,
  threadStatusResponseSchema,
  userCheckResponseSchema,
  withdrawResponseSchema,
  type SignatureType,
} from './schemas';
import { EvrotrustRequestError, type EvrotrustEndpoint } from './errors';
import { isPdf, isXml, sha512Hex, sniffContentType } from './files';
import { isFinalStatus, isKnownStatus, statusName } from './statuses';
import { asciiJson, jsonPayload, type Transport } from './transport';
import type {
  CallOptions,
  EvrotrustLogger,
  EvrotrustSigner,
  SendGroupOnlineInput,
  SendOfflineInput,
  SendOnlineInput,
  SendOnlineResult,
  SigningOptions,
  StatusResult,
  ThreadStatusResult,
  UserCheckResult,
  WithdrawResult,
  WithdrawStatus,
} from './types';

/** What every endpoint call needs besides its own input. */
export interface EndpointContext {
  transport: Transport;
  vendorNumber: string;
  /** Base64 of the whole public key PEM text (keys.ts `publicKeyParam`). */
  publicKey: string;
  signing: SigningOptions;
  logger?: EvrotrustLogger | undefined;
  /** Cap on a /document/download answer (DownloadTooLargeError past it). */
  maxDownloadBytes: number;
}

// ---------- request bodies (pure; exported for tests and other modules) ----------

export const DEFAULT_SIGNING_OPTIONS: Readonly<SigningOptions> = {
  pdfType: 'PDF2',
  xmlType: 'XML1',
  otherType: 'CAD1',
  algorithm: 'SHA256',
  coverage: 20000,
  certificateType: 1,
};

/** Merges and checks the signing defaults; a bad value fails at start-up, naming the option. */
export function resolveSigningOptions(given: Partial<SigningOptions> | undefined): SigningOptions {
  const o: SigningOptions = { ...DEFAULT_SIGNING_OPTIONS, ...given };
  for (const key of ['pdfType', 'xmlType', 'otherType'] as const) {
    if (!(SIGNATURE_TYPES as readonly string[]).includes(o[key])) {
      throw new TypeError(`createEvrotrustClient: signing.${key} must be one of ${SIGNATURE_TYPES.join(', ')}`);
    }
  }
  if (!(COVERAGES as readonly number[]).includes(o.coverage)) {
    throw new TypeError(`createEvrotrustClient: signing.coverage must be one of ${COVERAGES.join(', ')}`);
  }
  if (o.certificateType !== null && (!Number.isInteger(o.certificateType) || o.certificateType < 0)) {
    throw new TypeError('createEvrotrustClient: signing.certificateType must be a non-negative integer or null');
  }
  if (o.algorithm.trim() === '') throw new TypeError('createEvrotrustClient: signing.algorithm must not be empty');
  return o;
}

export function toUnixSeconds(dateExpire: Date | number): number {
  return dateExpire instanceof Date ? Math.floor(dateExpire.getTime() / 1000) : dateExpire;
}

/**
 * The `signInfo` for a file, by its content type (given, or from the file name's extension):
 * PDF → `pdfType`, XML → `xmlType`, anything else → `otherType` (CAD: "sign any file type"), as
 * DigitalSofia picks by content type. Pure; exported for the workflow side and tests.
 */
export function signInfoFor(
  file: { filename: string; contentType?: string },
  options: Partial<SigningOptions> = {},
): { type: SignatureType; algorithm: string } {
  const o = { ...DEFAULT_SIGNING_OPTIONS, ...options };
  const type = isPdf(file) ? o.pdfType : isXml(file) ? o.xmlType : o.otherType;
  return { type, algorithm: o.algorithm };
}

/**
 * The one identifier a request names a person by: Swagger `/document/doc/online`, users: "in every
 * item of the array has to be added only one of the parameters". ЕГН first (with `country` when the
 * caller gave one: the Swagger pairs it with identificationNumber only), else phone, else e-mail.
 */
export function pickIdentifier(user: EvrotrustSigner): EvrotrustSigner {
  if (user.identificationNumber !== undefined) {
    return user.country !== undefined
      ? { identificationNumber: user.identificationNumber, country: user.country.toUpperCase() }
      : { identificationNumber: user.identificationNumber };
  }
  if (user.phone !== undefined) return { phone: user.phone };
  if (user.email !== undefined) return { email: user.email };
  return {};
}

/**
 * Which answer entry belongs to which signer: `result[i]` is the entry index of signer i.
 * In order, as documented; but when Evrotrust echoes identificationNumber and it disagrees with the
 * order, match on it instead (a mix-up would send one person's transaction to another).
 * `undefined` when the counts differ or no consistent matching exists.
 */
export function matchTransactions(
  signers: readonly EvrotrustSigner[],
  entries: ReadonlyArray<{ identificationNumber?: string | null | undefined }>,
): number[] | undefined {
  if (signers.length !== entries.length) return undefined;
  const disagrees = (i: number): boolean => {
    const want = signers[i]?.identificationNumber;
    const got = entries[i]?.identificationNumber;
    return want !== undefined && got != null && got !== '' && got !== want;
  };
  const inOrder = signers.map((_, i) => i);
  if (!inOrder.some(disagrees)) return inOrder;
  const used = new Set<number>();
  const out: number[] = [];
  for (const signer of signers) {
    const id = signer.identificationNumber;
    if (id === undefined) return undefined;
    const candidates = entries.flatMap((e, j) => (e.identificationNumber === id && !used.has(j) ? [j] : []));
    if (candidates.length !== 1) return undefined;
    used.add(candidates[0]!);
    out.push(candidates[0]!);
  }
  return out;
}

/**
 * A send's answer, one transaction per signer, matched to the caller's signers (matchTransactions);
 * an answer that cannot be matched is malformed, and its error carries threadID so the caller can
 * withdraw the thread that exists at Evrotrust.
 */
function transactionsInOrder<S extends EvrotrustSigner>(
  t: Transport,
  ctx: Parameters<Transport['fail']>[0],
  answer: {
    httpStatus: number;
    startedAt: number;
    threadID: string;
    transactions: ReadonlyArray<{ transactionID: string; identificationNumber?: string | null | undefined }>;
  },
  signers: S[],
): Array<S & { transactionID: string }> {
  const order = matchTransactions(signers, answer.transactions);
  if (!order) {
    const problem = `expected one entry per signer (${signers.length}), in order`;
    t.fail(ctx, t.malformed(ctx, answer.httpStatus, 'transactions', problem, { threadID: answer.threadID }), answer.startedAt);
  }
  return signers.map((signer, i) => ({ ...signer, transactionID: answer.transactions[order[i]!]!.transactionID }));
}

/** Preview is for PDFs (the app shows them): 1 unless the caller said no; DigitalSofia sends 0 for XML and CAD files. */
function previewFlag(pdfSignature: boolean, preview: boolean | 0 | 1 | undefined): 0 | 1 {
  return !pdfSignature ? 0 : preview === undefined || preview === true || preview === 1 ? 1 : 0;
}

function signInfoBody(
  signing: SigningOptions,
  file: { filename: string; content: Uint8Array },
  override: { type: SignatureType; algorithm?: string | undefined } | undefined,
): { type: SignatureType; algorithm: string } {
  // The content decides when it is recognizable (a PDF named without ".pdf" is still a PDF).
  const sniffed = sniffContentType(file.content);
  const picked = signInfoFor(sniffed ? { filename: file.filename, contentType: sniffed } : file, signing);
  return override ? { type: override.type, algorithm: override.algorithm ?? signing.algorithm } : picked;
}

// ---------- the endpoints ----------

const WITHDRAW_STATUS: Readonly<Record<1 | 2 | 3, WithdrawStatus>> = {
  1: 'withdrawn',
  2: 'not-withdrawn',
  3: 'already-withdrawn',
};

export async function checkUser(api: EndpointContext, user: EvrotrustSigner, call?: CallOptions): Promise<UserCheckResult> {
  const t: Transport = api.transport;
  const { vendorNumber } = api;
  const endpoint = '/user/check/extended';
  const input = signerSchema.safeParse(user);
  if (!input.success) t.invalidInput(endpoint, {}, input.error);
  const ctx = t.context(endpoint, {}, call, false);
  // The same single identifier a send would use, so the check is about the person we send to.
  const { value: r } = await t.sendJson(ctx, jsonPayload({ vendorNumber, user: pickIdentifier(input.data) }), userCheckResponseSchema);
  const out: UserCheckResult = {
    isRegistered: r.isRegistered,
    isReadyToSign: r.isReadyToSign,
    isReadyToSignDerived: r.isReadyToSignDerived,
    rejectReason: r.rejectReason.text,
    rejectReasonCode: r.rejectReason.code,
  };
  if (r.isIdentified !== undefined) out.isIdentified = r.isIdentified;
  if (r.isRejected !== undefined) out.isRejected = r.isRejected;
  if (r.isSupervised !== undefined) out.isSupervised = r.isSupervised;
  if (r.hasConfirmedPhone !== undefined) out.hasConfirmedPhone = r.hasConfirmedPhone;
  if (r.hasConfirmedEmail !== undefined) out.hasConfirmedEmail = r.hasConfirmedEmail;
  return out;
}

export async function sendOnline<S extends EvrotrustSigner>(
  api: EndpointContext,
  input: SendOnlineInput & { signers: S[] },
  call?: CallOptions,
): Promise<SendOnlineResult<S>> {
  const t: Transport = api.transport;
  const { vendorNumber, publicKey, signing, logger } = api;
  const endpoint = '/document/doc/online';
  const parsed = sendOnlineInputSchema.safeParse(input);
  if (!parsed.success) t.invalidInput(endpoint, {}, parsed.error);
  const { document, signers, urlCallback, signInfo } = parsed.data;
  const sign = signInfoBody(signing, document, signInfo);
  const preview = previewFlag(sign.type.startsWith('PDF'), document.preview);
  const data = asciiJson({
    vendorNumber,
    publicKey,
    urlCallback,
    document: {
      description: document.description,
      dateExpire: toUnixSeconds(document.dateExpire),
      coverage: document.coverage ?? signing.coverage,
      preview,
      checksumDocument: sha512Hex(document.content),
      ...(signing.certificateType !== null ? { certificateType: signing.certificateType } : {}),
    },
    signInfo: sign,
    users: signers.map(pickIdentifier),
  });
  const ctx = t.context(endpoint, {}, call, true);
  const startedAt = performance.now();
  const { httpStatus, value: r } = await t.sendJson(
    ctx,
    { kind: 'multipart', data, file: { filename: document.filename, content: document.content } },
    sendOnlineResponseSchema,
  );
  const transactions = transactionsInOrder(t, ctx, { httpStatus, startedAt, ...r }, input.signers);
  logger?.info?.('evrotrust document sent', { endpoint, threadID: r.threadID, transactionIDs: transactions.map((t) => t.transactionID) });
  return { threadID: r.threadID, transactions };
}

/**
 * `/document/group/online` (Swagger; DigitalSofia `send_file_group`): per-document description,
 * optional, preview and SHA-512; coverage, dateExpire and groupDescription for the whole group;
 * one signInfo. The answer is read like `/document/doc/online`'s: one transaction per signer.
 */
export async function sendGroupOnline<S extends EvrotrustSigner>(
  api: EndpointContext,
  input: SendGroupOnlineInput & { signers: S[] },
  call?: CallOptions,
): Promise<SendOnlineResult<S>> {
  const t: Transport = api.transport;
  const { vendorNumber, publicKey, signing, logger } = api;
  const endpoint = '/document/group/online';
  const parsed = sendGroupOnlineInputSchema.safeParse(input);
  if (!parsed.success) t.invalidInput(endpoint, {}, parsed.error);
  const { documents, signers, urlCallback, signInfo, groupDescription } = parsed.data;
  const picked = documents.map((d) => signInfoBody(signing, d, undefined));
  // One signInfo for all: the shared type when every file picks the same, else the any-file CAD type.
  const shared = picked.every((p) => p.type === picked[0]?.type) ? picked[0]! : { type: signing.otherType, algorithm: signing.algorithm };
  const sign = signInfo ? { type: signInfo.type, algorithm: signInfo.algorithm ?? signing.algorithm } : shared;
  const pdfSignature = sign.type.startsWith('PDF');
  const data = asciiJson({
    vendorNumber,
    publicKey,
    urlCallback,
    groupDescription,
    coverage: parsed.data.coverage ?? signing.coverage,
    dateExpire: toUnixSeconds(parsed.data.dateExpire),
    ...(signing.certificateType !== null ? { certificateType: signing.certificateType } : {}),
    documents: documents.map((d) => ({
      description: d.description,
      optional: d.optional === true ? 1 : 0,
      preview: previewFlag(pdfSignature, d.preview),
      checksumDocument: sha512Hex(d.content),
    })),
    signInfo: sign,
    users: signers.map(pickIdentifier),
  });
  const ctx = t.context(endpoint, {}, call, true);
  const startedAt = performance.now();
  const { httpStatus, value: r } = await t.sendJson(
    ctx,
    { kind: 'multipart-group', data, files: documents.map((d) => ({ filename: d.filename, content: d.content })) },
    sendGroupOnlineResponseSchema,
  );
  const transactions = transactionsInOrder(t, ctx, { httpStatus, startedAt, ...r }, input.signers);
  logger?.info?.('evrotrust document group sent', {
    endpoint,
    threadID: r.threadID,
    documents: documents.length,
    transactionIDs: transactions.map((x) => x.transactionID),
  });
  return { threadID: r.threadID, transactions };
}

export async function sendOffline(api: EndpointContext, input: SendOfflineInput, call?: CallOptions): Promise<{ transactionID: string }> {
  const t: Transport = api.transport;
  const { vendorNumber, publicKey, signing, logger } = api;
  const endpoint = '/document/doc/offline';
  const parsed = sendOfflineInputSchema.safeParse(input);
  if (!parsed.success) t.invalidInput(endpoint, {}, parsed.error);
  const { document, signer, urlCallback, signInfo } = parsed.data;
  // The OTP user carries every field the Swagger lists for it (the one-identifier rule is the `users[]` one).
  const user: Record<string, string> = { identificationNumber: signer.identificationNumber };
  if (signer.documentNumber !== undefined) user.documentNumber = signer.documentNumber;
  user.phone = signer.phone;
  if (signer.email !== undefined) user.email = signer.email;
  const data = asciiJson({
    vendorNumber,
    publicKey,
    urlCallback,
    user,
    document: {
      description: document.description,
      coverage: document.coverage ?? signing.coverage,
      checksumDocument: sha512Hex(document.content),
      ...(signing.certificateType !== null ? { certificateType: signing.certificateType } : {}),
    },
    signInfo: signInfoBody(signing, document, signInfo),
  });
  const ctx = t.context(endpoint, {}, call, true);
  const { value: r } = await t.sendJson(
    ctx,
    { kind: 'multipart', data, file: { filename: document.filename, content: document.content } },
    sendOfflineResponseSchema,
  );
  logger?.info?.('evrotrust document sent', { endpoint, transactionID: r.transactionID });
  return { transactionID: r.transactionID };
}

export async function activateOffline(
  api: EndpointContext,
  transactionID: string,
  activationCode: string,
  call?: CallOptions,
): Promise<void> {
  const t: Transport = api.transport;
  const { vendorNumber } = api;
  const endpoint = '/document/doc/offline/activate';
  t.requireId(endpoint, 'transactionID', transactionID);
  t.requireId(endpoint, 'activationCode', activationCode);
  const ctx = t.context(endpoint, { transactionID }, call, false);
  await t.send(ctx, jsonPayload({ vendorNumber, transactionID, activationCode }), 'empty');
}

export async function resendOfflineCode(api: EndpointContext, transactionID: string, phone: string, call?: CallOptions): Promise<void> {
  const t: Transport = api.transport;
  const { vendorNumber } = api;
  const endpoint = '/document/doc/offline/activate/resend';
  t.requireId(endpoint, 'transactionID', transactionID);
  t.requireId(endpoint, 'phone', phone);
  if (!OTP_PHONE_PATTERN.test(phone)) {
    throw new EvrotrustRequestError(
      `Evrotrust ${endpoint}: refused before sending, phone must match the Swagger pattern "+[0-9]" (a leading + and digits)`,
      {
        code: 'invalid-request',
        endpoint,
        retryable: false,
        outcomeUnknown: false,
        field: 'phone',
        transactionID,
      },
    );
  }
  const ctx = t.context(endpoint, { transactionID }, call, false);
  await t.send(ctx, jsonPayload({ vendorNumber, transactionID, phone }), 'empty');
}

/** `/document/status`, or `/document/group/status` for a group transaction: the same body and answer (Swagger). */
export async function status(
  api: EndpointContext,
  transactionID: string,
  call?: CallOptions,
  endpoint: '/document/status' | '/document/group/status' = '/document/status',
): Promise<StatusResult> {
  const t: Transport = api.transport;
  const { vendorNumber } = api;
  t.requireId(endpoint, 'transactionID', transactionID);
  const ctx = t.context(endpoint, { transactionID }, call, false);
  const { value: r } = await t.sendJson(ctx, jsonPayload({ vendorNumber, transactionID }), statusResponseSchema);
  return statusResult(api, endpoint, transactionID, r.status, r.isProcessing, r.rejectReason ?? null);
}

/** One transaction's status as the client answers it; an unknown code is tolerated (Evrotrust adds codes over time: not final, so the caller keeps waiting/polling) and logged. */
function statusResult(
  api: EndpointContext,
  endpoint: EvrotrustEndpoint,
  transactionID: string,
  status: number,
  isProcessing: boolean,
  rejectReason: string | null,
): StatusResult {
  if (!isKnownStatus(status)) api.logger?.warn?.('evrotrust unknown status code', { endpoint, transactionID, status });
  return { status, statusName: statusName(status), isProcessing, isFinal: isFinalStatus(status, isProcessing), rejectReason };
}

/**
 * `/document/thread/status`: every signer's status in one call. A signer's entry is its group
 * transaction when Evrotrust names one (a group), else each of its document transactions.
 */
export async function threadStatus(api: EndpointContext, threadID: string, call?: CallOptions): Promise<ThreadStatusResult> {
  const t: Transport = api.transport;
  const { vendorNumber } = api;
  const endpoint = '/document/thread/status';
  t.requireId(endpoint, 'threadID', threadID);
  const ctx = t.context(endpoint, { threadID }, call, false);
  const { value: r } = await t.sendJson(ctx, jsonPayload({ vendorNumber, threadID }), threadStatusResponseSchema);
  const result = (transactionID: string, status: number, isProcessing: boolean, rejectReason: string | null) => ({
    transactionID,
    ...statusResult(api, endpoint, transactionID, status, isProcessing, rejectReason),
  });
  const transactions = r.statuses.flatMap((s) => {
    const reason = s.rejectReason ?? null;
    if (s.groupTransactionID != null && s.groupStatus != null)
      return [result(s.groupTransactionID, s.groupStatus, s.groupIsProcessing ?? false, reason)];
    return (s.documents ?? []).map((d) => result(d.transactionID, d.status, d.isProcessing ?? false, reason));
  });
  return { transactions };
}

/** `/document/download`, or `/document/group/download` for a group transaction (a ZIP either way). */
export async function download(
  api: EndpointContext,
  transactionID: string,
  call?: CallOptions,
  endpoint: '/document/download' | '/document/group/download' = '/document/download',
): Promise<Uint8Array> {
  const t: Transport = api.transport;
  const { vendorNumber } = api;
  t.requireId(endpoint, 'transactionID', transactionID);
  const ctx = t.context(endpoint, { transactionID }, call, true);
  const startedAt = performance.now();
  const { status, body } = await t.send(ctx, jsonPayload({ vendorNumber, transactionID }), 'bytes', api.maxDownloadBytes);
  // A ZIP starts with "PK"; anything else (an HTML error page, JSON) is not the document.
  if (body.byteLength < 4 || body[0] !== 0x50 || body[1] !== 0x4b) {
    t.fail(ctx, t.malformed(ctx, status, '(body)', 'not a ZIP archive'), startedAt);
  }
  return body;
}

export async function withdraw(api: EndpointContext, threadID: string, call?: CallOptions): Promise<WithdrawResult> {
  const t: Transport = api.transport;
  const { vendorNumber } = api;
  const endpoint = '/document/withdraw';
  t.requireId(endpoint, 'threadID', threadID);
  const ctx = t.context(endpoint, { threadID }, call, false);
  const { value: r } = await t.sendJson(ctx, jsonPayload({ vendorNumber, threadID }), withdrawResponseSchema);
  return { status: WITHDRAW_STATUS[r.status], code: r.status };
}

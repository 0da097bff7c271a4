// Names and message types of signingWorkflow, defined once and shared by the workflow and its
// callers (HTTP API, business client, callback relay, reconciler). Nothing here may carry personal
// data: all of it is written into Temporal's history.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StatusName } from '../src/evrotrust/statuses';

export const SIGNING_WORKFLOW_TYPE = 'signingWorkflow';
export const workflowIdFor = (signingId: string): string => `signing-${signingId}`;

export type SigningMethod = 'app' | 'otp';
export type SigningStatus = 'pending' | 'signed' | 'rejected' | 'expired' | 'withdrawn' | 'failed';
export const FINAL_STATUSES: readonly SigningStatus[] = ['signed', 'rejected', 'expired', 'withdrawn', 'failed'];

/**
 * One signer's transaction as the workflow knows it. `processing` is Evrotrust's "signed, still
 * processing" (status 2 with isProcessing): the signer has signed, so it is never withdrawn or
 * expired, but the file cannot be downloaded yet.
 */
export type SignerStatus =
  | 'pending'
  | 'processing'
  | 'onHold'
  | 'signed'
  | 'rejected'
  | 'expired'
  | 'withdrawn'
  | 'failed'
  | 'undeliverable'
  | 'faceRecognitionFailed'
  | 'unknown';

/** Statuses after which nothing more happens to the transaction at Evrotrust. */
export const SETTLED_SIGNER_STATUSES: readonly SignerStatus[] = [
  'signed',
  'rejected',
  'expired',
  'withdrawn',
  'failed',
  'undeliverable',
  'faceRecognitionFailed',
];

/** A signer's status from Evrotrust's status name (statuses.ts) and its isProcessing flag. */
export function signerStatusOf(statusName: StatusName, isProcessing: boolean): SignerStatus {
  if (statusName === 'signed') return isProcessing ? 'processing' : 'signed';
  const known: readonly string[] = [...SETTLED_SIGNER_STATUSES, 'pending', 'onHold'];
  return (known.includes(statusName) ? statusName : 'unknown') as SignerStatus;
}

/**
 * Why a signing ended `failed`: a stable code to decide by (src/signings/failures.ts says what each
 * means in words a caller can act on).
 */
export type FailureCode =
  | 'signer-not-ready'
  | 'send-outcome-unknown'
  | 'send-refused'
  | 'evrotrust-unavailable'
  | 'evrotrust-failed'
  | 'undeliverable'
  | 'face-recognition-failed'
  | 'signed-document-unavailable'
  | 'signed-document-too-large'
  | 'status-unconfirmed'
  | 'not-started';

export interface SigningWorkflowInput {
  signingId: string;
  method: SigningMethod;
  signerCount: number;
  /** When the request expires at Evrotrust (epoch ms); sent as dateExpire. */
  expiresAt: number;
  /** Extra wait after expiresAt for Evrotrust's own expiry before we withdraw (ms); the signing ends `expired` either way. */
  expiryGraceMs: number;
  /** How often to ask /document/status while no callback comes (ms). */
  pollIntervalMs: number;
  /** How soon to ask again when Evrotrust says "signed, still processing" (ms). */
  processingRecheckMs: number;
  /**
   * How long past the deadline the workflow keeps retrying Evrotrust or the store when they fail
   * (ms, default 1 day); then the signing ends `failed` rather than staying pending for good.
   */
  settleGraceMs?: number;
  /**
   * How long the final-state notification is retried (ms, NOTIFY_GIVE_UP_AFTER, default 3 days). Only
   * the bound: whether there is a notification, and where to, the record says (an activity reads it).
   */
  notifyGiveUpAfterMs?: number;
  /** Continue as new past this many history events (default 4000), so long waits keep a small history. */
  continueAsNewAfterEvents?: number;
  /**
   * Set by continue-as-new and by repair runs (reconciler, withdraw of a stopped workflow): the
   * document was sent already; carry on waiting with this state.
   */
  resume?: { threadId: string | null; signers: SignerView[]; withdrawRequested: boolean };
}

/** What Evrotrust told us in a callback: a hint to confirm with /document/status, never trusted alone. */
export interface EvrotrustCallback {
  transactionID: string;
  status: number;
  callbackId?: string;
}

export interface SignerView {
  transactionId: string | null;
  status: SignerStatus;
}

/** A step that keeps failing while the workflow retries it: shown to operators, never fatal by itself. */
export interface SigningProblem {
  step: string;
  /** The failure type, e.g. `unauthorized`, `server-error`, `activity-failed`. */
  code: string;
  attempts: number;
  /** Epoch ms of the first failure in this streak. */
  since: number;
}

export interface SigningView {
  signingId: string;
  status: SigningStatus;
  method: SigningMethod;
  threadId: string | null;
  signers: SignerView[];
  /** A short machine-readable reason of a failed signing, e.g. `signer-not-ready`. */
  failure?: FailureCode;
  /** Set while a step is being retried. */
  problem?: SigningProblem;
}

export type OtpResult = { accepted: true } | { accepted: false; code: string; message: string };

export const evrotrustCallbackSignal = defineSignal<[EvrotrustCallback]>('evrotrustCallback');
/** Business code asks to withdraw the signing at Evrotrust. */
export const withdrawSignal = defineSignal('withdraw');
export const statusQuery = defineQuery<SigningView>('status');
/** The SMS code of an OTP signing; answers with Evrotrust's verdict. */
export const submitOtpUpdate = defineUpdate<OtpResult, [{ code: string }]>('submitOtp');
/** Asks Evrotrust to send a new SMS code. */
export const resendOtpUpdate = defineUpdate<void, []>('resendOtp');

// Names and message types of signingWorkflow, defined once and shared by the workflow and its
// callers (HTTP API, business client, callback relay). Nothing here may carry personal data:
// all of it is written into Temporal's history.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const SIGNING_WORKFLOW_TYPE = 'signingWorkflow';
export const workflowIdFor = (signingId: string): string => `signing-${signingId}`;

export type SigningMethod = 'app' | 'otp';
export type SigningStatus = 'pending' | 'signed' | 'rejected' | 'expired' | 'withdrawn' | 'failed';
export const FINAL_STATUSES: readonly SigningStatus[] = ['signed', 'rejected', 'expired', 'withdrawn', 'failed'];

export interface SigningWorkflowInput {
  signingId: string;
  method: SigningMethod;
  signerCount: number;
  /** When the request expires at Evrotrust (epoch ms); sent as dateExpire. */
  expiresAt: number;
  /** Extra wait after expiresAt before we give up on Evrotrust's own expiry (ms). */
  expiryGraceMs: number;
  /** How often to ask /document/status while no callback comes (ms). */
  pollIntervalMs: number;
  /** How soon to ask again when Evrotrust says "signed, still processing" (ms). */
  processingRecheckMs: number;
  /** Continue as new past this many history events (default 4000), so long waits keep a small history. */
  continueAsNewAfterEvents?: number;
  /** Set by continue-as-new: the document was sent already; carry on waiting with this state. */
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
  status: string;
}

export interface SigningView {
  signingId: string;
  status: SigningStatus;
  method: SigningMethod;
  threadId: string | null;
  signers: SignerView[];
  /** A short machine-readable reason of a failed signing, e.g. `signer-not-ready`. */
  failure?: string;
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

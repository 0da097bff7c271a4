// Signals, queries and updates of signingWorkflow, defined once and shared by the workflow and
// its callers (HTTP API, business client, callback relay).
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const SIGNING_WORKFLOW_TYPE = 'signingWorkflow';
export const workflowIdFor = (signingId: string): string => `signing-${signingId}`;

/** What Evrotrust told us in a callback; a hint to confirm with /document/status, never trusted alone. */
export interface EvrotrustCallback {
  transactionID: string;
  status: number;
  rejectReason?: string;
  callbackId?: string;
}

export type SigningStatus = 'pending' | 'signed' | 'rejected' | 'expired' | 'withdrawn' | 'failed';
export const FINAL_STATUSES: readonly SigningStatus[] = ['signed', 'rejected', 'expired', 'withdrawn', 'failed'];

export interface SigningView {
  signingId: string;
  status: SigningStatus;
  reason?: string;
}

export const evrotrustCallbackSignal = defineSignal<[EvrotrustCallback]>('evrotrustCallback');
export const statusQuery = defineQuery<SigningView>('status');

// Custom search attributes: registered on the dev server by the stack launcher, set by the workflow.
// Never personal data: only Evrotrust's transaction id and our status.
// (Imported by workflow code too: nothing here may do I/O.)
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  EvrotrustTransactionId: 'Keyword',
  SigningStatus: 'Keyword',
} as const;

export const transactionIdKey = defineSearchAttributeKey('EvrotrustTransactionId', SearchAttributeType.KEYWORD);
export const signingStatusKey = defineSearchAttributeKey('SigningStatus', SearchAttributeType.KEYWORD);

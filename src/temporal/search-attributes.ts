// Custom search attributes: registered on the dev server by the stack launcher, set by the workflow.
// Never personal data: only our ids and the status.
export const SEARCH_ATTRIBUTES = {
  EvrotrustTransactionId: 'Keyword',
  SigningStatus: 'Keyword',
} as const;

// Delivery of stored Evrotrust callbacks to workflows, capability tokens and the callback metrics.
export { startCallbackRelay, type CallbackRelay, type CallbackRelayOptions, type CallbackDeliverer, type RelayLogger } from './relay';
export { callbackMetrics, type CallbackMetrics, type RejectReason, type DeliveryResult } from './metrics';
export { hashCallbackToken, tokenLogId, CALLBACK_TOKEN_PATTERN, CALLBACK_TOKENS_COLLECTION } from './tokens';

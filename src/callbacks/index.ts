// The Evrotrust callback feature, from the HTTP request to the workflow signal (README "How a callback
// travels"): routes.ts (allowlist.ts, schema.ts, errors.ts) → inbox.ts (store) → relay.ts → signal.
export {
  registerCallbacks,
  callbackRoutes,
  redactCallbackPath,
  CALLBACK_PREFIX,
  CALLBACK_SUFFIXES,
  DEFAULT_CALLBACK_BODY_LIMIT,
  type CallbackRoutesOptions,
  type RegisterCallbacksOptions,
  type CallbackSuffix,
} from './routes';
export { AddressSet, foldAddress, resolveCaller, allowlistHook, InvalidAddressEntryError, type Caller } from './allowlist';
export * from './errors';
export { callbackBodySchema, type CallbackBody } from './schema';
export { startCallbackRelay, type CallbackRelay, type CallbackRelayOptions, type CallbackDeliverer, type RelayLogger } from './relay';
export { callbackMetrics, type CallbackMetrics, type RejectReason, type DeliveryResult } from './metrics';
export { CallbackTokens, hashCallbackToken, tokenLogId, CALLBACK_TOKEN_PATTERN, CALLBACK_TOKENS_COLLECTION } from './tokens';

// The Evrotrust callback endpoint: routes, allowlist, validation. See routes.ts.
export { registerCallbacks, callbackRoutes, redactCallbackPath, CALLBACK_PREFIX, CALLBACK_SUFFIXES, DEFAULT_CALLBACK_BODY_LIMIT, type CallbackRoutesOptions, type RegisterCallbacksOptions, type CallbackSuffix } from './routes';
export { AddressSet, foldAddress, resolveCaller, allowlistHook, InvalidAddressEntryError, type Caller } from './allowlist';
export * from './errors';
export { callbackBodySchema, parseCallbackJson, type CallbackBody } from './schema';

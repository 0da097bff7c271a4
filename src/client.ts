// The TypeScript client for business code (CONTRACT "TypeScript client"); it lives with the signings
// feature in src/signings/client.ts.
export * from './signings/client';

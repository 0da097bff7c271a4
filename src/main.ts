// The whole service in one process (role `all`: HTTP API, callbacks and relay, reconciler, retention
// and the worker), against servers at the configured addresses (TEMPORAL_ADDRESS, MONGODB_URI; the
// Evrotrust simulator at SANDBOX_SIMULATOR_URL in sandbox mode): the image's default command.
// `npm start` runs scripts/start.ts instead, which starts an embedded stack first. The same service
// split in two: src/api-main.ts and src/worker-main.ts.
import { loadConfigOrExit } from './config';

// The configuration first, and the service's modules (Temporal, Fastify, MongoDB) only once it is
// valid: a refused variable exits within a fraction of a second, before any of them loads.
const config = loadConfigOrExit();
void import('./run').then(({ runService }) => runService(config, { role: 'all' }));

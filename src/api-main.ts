// The service without the worker (role `api`): the business API, the callback routes and their
// relay, health and metrics, the reconciler and the retention job. Runs beside any number of
// workers (src/worker-main.ts) and of other api replicas: `node dist/src/api-main.js`. Needs
// TEMPORAL_ADDRESS and MONGODB_URI (and, in sandbox mode, the simulator at SANDBOX_SIMULATOR_URL).
import { loadConfigOrExit } from './config';

// The configuration first, and the service's modules (Temporal, Fastify, MongoDB) only once it is
// valid: a refused variable exits within a fraction of a second, before any of them loads.
const config = loadConfigOrExit();
void import('./run').then(({ runService }) => runService(config, { role: 'api' }));

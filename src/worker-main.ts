// The Temporal worker alone (role `worker`): signingWorkflow and its activities, no HTTP server.
// For deployments that run workers apart from the API (src/api-main.ts), and for the crash tests and
// drills: `node dist/src/worker-main.js` (from sources: `node --import tsx src/worker-main.ts`).
// Needs a configured Temporal (TEMPORAL_ADDRESS, or a profile: src/temporal/connection.ts) and MONGODB_URI
// (and, in sandbox mode, the simulator at SANDBOX_SIMULATOR_URL).
// Serves the SDK's Prometheus metrics at WORKER_METRICS_ADDRESS (/metrics); on SIGTERM it drains
// (WORKER_SHUTDOWN_GRACE, then activities are cancelled) and exits 0, or 1 when cut at SHUTDOWN_TIMEOUT.
import { loadConfigOrExit } from './config';

// The configuration first, and the service's modules (Temporal, Fastify, MongoDB) only once it is
// valid: a refused variable exits within a fraction of a second, before any of them loads.
const config = loadConfigOrExit();
void import('./run').then(({ runService }) => runService(config, { role: 'worker' }));

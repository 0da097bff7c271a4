// The whole service in one process, against servers at the configured addresses (TEMPORAL_ADDRESS,
// MONGODB_URI; the Evrotrust simulator at SANDBOX_SIMULATOR_URL in sandbox mode): what the image
// runs. `npm start` runs scripts/start.ts instead, which starts an embedded stack first.
import { loadConfigOrExit } from './config';
import { runService } from './run';

runService(loadConfigOrExit());

// The sandbox's published credentials: the project's simulator accepts them, and the service uses
// them in sandbox mode (EVROTRUST_BASE_URL unset). Here rather than in simulator/ so that production
// code never imports the simulator; the simulator takes its defaults from this file.

/** Vendor number the simulator accepts unless told otherwise. Not a real Evrotrust account. */
export const SANDBOX_VENDOR_NUMBER = 'SandboxVendor001';

/** API key the simulator accepts unless told otherwise. Not a secret: it only opens the local simulator. */
export const SANDBOX_API_KEY = '5a4d1b7e-0c2f-4e8a-9b36-5130a7e00000';

/** Where sandbox mode expects the simulator when SANDBOX_SIMULATOR_URL is not set (what `npm start` runs). */
export const DEFAULT_SANDBOX_SIMULATOR_URL = 'http://127.0.0.1:8090';

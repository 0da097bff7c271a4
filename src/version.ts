// The service's version as the OpenAPI description and logs show it (kept equal to package.json's,
// which test/http/openapi.test.ts checks).
export const SERVICE_VERSION = '0.1.0';

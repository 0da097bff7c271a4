// The simulator's own credentials and default settings, in one place so that the service's
// sandbox mode, the tests and the simulator agree without copying literals around.

export { SANDBOX_VENDOR_NUMBER, SANDBOX_API_KEY } from '../src/evrotrust/sandbox';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8090;
export const DEFAULT_CALLBACK_SOURCE_ADDRESS = '127.0.0.1';

/** Evrotrust waits 30 s for a callback answer (help portal "Receive a Callback From Evrotrust"). */
export const DEFAULT_CALLBACK_TIMEOUT_MS = 30_000;
/** Evrotrust tries 3 times in all (help portal, same article). */
export const DEFAULT_CALLBACK_ATTEMPTS = 3;
/** The pause between attempts is not published; a few seconds keeps a laptop demo snappy. */
export const DEFAULT_CALLBACK_RETRY_DELAY_MS = 5_000;
/** How long a signed document stays `isProcessing: true`. */
export const DEFAULT_PROCESSING_MS = 200;
/** Lifetime of an SMS activation code (not published; 5 minutes is a common SMS-OTP lifetime). */
export const DEFAULT_OTP_CODE_TTL_MS = 5 * 60_000;
/** Maximum upload size (not published by Evrotrust): 20 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024;

/** Coverage values Evrotrust accepts (anything else is 454): Swagger `/document/doc/online`. */
export const ALLOWED_COVERAGES: readonly number[] = [0, 500, 20_000, 100_000, 250_000];

/** Longest `document.description` Evrotrust accepts: Swagger `/document/doc/online`. */
export const MAX_DESCRIPTION_LENGTH = 4000;

/** `signInfo.type` values: the Swagger's six, plus XML3 which DigitalSofia sends for XML in production. */
export const SIGNATURE_TYPES = ['PDF1', 'PDF2', 'XML1', 'XML2', 'XML3', 'CAD1', 'CAD2'] as const;
export type SignatureType = (typeof SIGNATURE_TYPES)[number];

/** The OTP phone pattern of Swagger `/document/doc/offline` ("+[0-9]"); anything else is 449. */
export const OTP_PHONE_PATTERN = /^\+[0-9]+$/;

/**
 * How long `/document/status` answers 443 "Document not found" after a create: Evrotrust does so
 * for a while (DigitalSofia treats it as still signing). Default 2 s.
 */
export const DEFAULT_STATUS_NOT_FOUND_MS = 2_000;

// Typed errors of the simulator: one for the vendor API (carries Evrotrust's HTTP code),
// one for the test controls (carries a plain HTTP meaning).

/** HTTP codes the vendor API answers with, and the text Evrotrust's Swagger v1.0.154 gives them. */
export const VENDOR_ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'Invalid data supplied',
  401: 'Unauthorized',
  432: 'Wrong activation code',
  438: 'User not found',
  442: 'User has no certificate',
  443: 'Document not found',
  448: 'Activation code expired',
  449: 'User data not valid',
  450: 'File too large',
  454: 'Wrong coverage value',
  457: 'File type not supported',
  468: 'Request rejected',
  469: 'Try again in 60 seconds',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** A vendor API failure: answered with `statusCode` and `{status, message}`. */
export class VendorError extends Error {
  override readonly name = 'VendorError';
  constructor(
    readonly statusCode: number,
    message: string = VENDOR_ERROR_TEXT[statusCode] ?? 'Error',
  ) {
    super(message);
  }
}

export type ControlErrorCode = 'not_found' | 'conflict' | 'invalid';

const CONTROL_HTTP_STATUS: Readonly<Record<ControlErrorCode, number>> = { not_found: 404, conflict: 409, invalid: 400 };

/** A misuse of a test control (unknown transaction, signing a final one, …). */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return CONTROL_HTTP_STATUS[this.code];
  }
}

// Errors of the signing operations, carrying the HTTP status and code the API answers with
// (src/http/errors.ts); the TypeScript client throws the same classes.
import { HttpError } from '../http/errors';

export class SigningError extends HttpError {
  constructor(httpStatus: number, code: string, message: string) {
    super(httpStatus, code, message);
  }
}

export class InvalidSigningRequestError extends SigningError {
  constructor(message: string) {
    super(400, 'invalid-request', message);
  }
}

/** A start asked for a notifyUrl, but the service has no NOTIFY_SECRET to sign notifications with. */
export class NotifyNotConfiguredError extends SigningError {
  constructor() {
    super(
      400,
      'notify-not-configured',
      'notifyUrl needs a webhook secret: set NOTIFY_SECRET (whsec_ and the Base64 of 24–64 random bytes) on the service, or leave notifyUrl out',
    );
  }
}

export class SigningNotFoundError extends SigningError {
  constructor(readonly signingId: string) {
    super(404, 'not-found', `no signing with id ${signingId}`);
  }
}

export class SigningStateError extends SigningError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

export class OtpRejectedError extends SigningError {
  constructor(
    readonly providerCode: string,
    message: string,
  ) {
    super(422, providerCode, message);
  }
}

/** The signed document existed but was deleted under the retention policy: 410 Gone. */
export class SignedDocumentGoneError extends SigningError {
  constructor(message: string) {
    super(410, 'signed-document-deleted', message);
  }
}

/** A list cursor that this API did not make, or that belongs to a listing with other filters: 400. */
export class InvalidCursorError extends SigningError {
  constructor(message: string) {
    super(400, 'invalid-cursor', message);
  }
}

/** GET …/signed-documents/:n with an n the signing has no document for: 404. */
export class DocumentIndexError extends SigningError {
  constructor(message: string) {
    super(404, 'document-not-found', message);
  }
}

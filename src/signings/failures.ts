// The failure codes a signing can end with, and what each means in words a caller can act on.
// A failed signing stores both: `failureCode` to decide by, and `failureReason`, the text the API
// shows: "<code>: <text> (<Evrotrust's code>)".
import type { FailureCode } from '../../workflows/definitions';

export type { FailureCode } from '../../workflows/definitions';

const FAILURE_TEXT: Readonly<Record<FailureCode, string>> = {
  'signer-not-ready': 'a signer cannot sign with Evrotrust yet (see signers[].readiness)',
  'send-outcome-unknown':
    'sending to Evrotrust timed out or failed after upload; it was not retried, to avoid a second request. Start a new signing if needed',
  'send-refused': 'Evrotrust refused the request; check the document and the signers, then start a new signing',
  'evrotrust-unavailable': 'Evrotrust could not be reached (or refused our credentials) until the signing expired; nothing was sent',
  'evrotrust-failed': 'Evrotrust reported the signing as failed',
  undeliverable: 'Evrotrust could not deliver the request to a signer',
  'face-recognition-failed': "the signer's face recognition failed at Evrotrust",
  'signed-document-unavailable': 'the document was signed, but the signed file could not be retrieved from Evrotrust',
  'signed-document-too-large':
    'the document was signed, but the signed download from Evrotrust exceeded a download limit (DOWNLOAD_MAX_*) and was refused unread; the signing event "download-refused" names the limit',
  'status-unconfirmed': 'Evrotrust did not confirm the final status of the request within a day after it expired',
  'not-started': 'the signing could not be started (Temporal was unavailable); nothing was sent. Start it again',
};

/** Why a signing failed: the code to decide by and the text a caller reads. */
export interface SigningFailure {
  code: FailureCode;
  reason: string;
}

/** The failure with a code; `detail` is Evrotrust's (or a step's) own code, when there was one. */
export function signingFailure(code: FailureCode, detail: string | null = null): SigningFailure {
  return { code, reason: `${code}: ${FAILURE_TEXT[code]}${detail ? ` (${detail})` : ''}` };
}

const isFailureCode = (value: string): value is FailureCode => Object.hasOwn(FAILURE_TEXT, value);

/**
 * The code of a failure recorded before codes were stored on their own: such records carry only
 * `failureReason`, "<code>: <text>". Older versions also wrote `download-<type>` (today's
 * `signed-document-unavailable`) and bare step failure types, which have no code today (null).
 * Only the store's read path calls this, once per read; nothing else parses the text.
 */
export function legacyFailureCode(reason: string | null | undefined): FailureCode | null {
  if (!reason) return null;
  const code = reason.slice(0, Math.max(0, reason.indexOf(':')));
  if (isFailureCode(code)) return code;
  return code.startsWith('download-') ? 'signed-document-unavailable' : null;
}

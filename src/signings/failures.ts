// The failure codes a signing can end with, and what each means in words a caller can act on.
// Stored in `signings.failureReason` as "<code>: <text> (<Evrotrust's code>)".

const FAILURE_TEXT: Readonly<Record<string, string>> = {
  'signer-not-ready': 'a signer cannot sign with Evrotrust yet (see signers[].readiness)',
  'send-outcome-unknown': 'sending to Evrotrust timed out or failed after upload; it was not retried, to avoid a second request. Start a new signing if needed',
  'send-refused': 'Evrotrust refused the request; check the document and the signers, then start a new signing',
  'evrotrust-unavailable': 'Evrotrust could not be reached (or refused our credentials) until the signing expired; nothing was sent',
  'evrotrust-failed': 'Evrotrust reported the signing as failed',
  undeliverable: 'Evrotrust could not deliver the request to a signer',
  'face-recognition-failed': "the signer's face recognition failed at Evrotrust",
  'signed-document-unavailable': 'the document was signed, but the signed file could not be retrieved from Evrotrust',
  'status-unconfirmed': 'Evrotrust did not confirm the final status of the request within a day after it expired',
  'not-started': 'the signing could not be started (Temporal was unavailable); nothing was sent. Start it again',
};

export function failureText(code: string, detail: string | null): string {
  const text = FAILURE_TEXT[code] ?? 'the signing failed';
  return `${code}: ${text}${detail ? ` (${detail})` : ''}`;
}

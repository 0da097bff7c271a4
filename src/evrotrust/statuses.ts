// Evrotrust transaction status codes (/document/status and callbacks); docs/evrotrust.md "Statuses".
// Sources: the vendor Swagger v1.0.154 `/document/status` (1–6, 99), the DigitalSofia integration
// (7 undeliverable) and newer third-party clients (8 failed face recognition). Evrotrust adds codes
// over time, so an unknown code is a value to log and carry, never a crash.

export const EVROTRUST_STATUS = {
  pending: 1,
  signed: 2,
  rejected: 3,
  expired: 4,
  failed: 5,
  withdrawn: 6,
  undeliverable: 7,
  /** The signer's face recognition failed: the transaction cannot be signed any more (final). */
  faceRecognitionFailed: 8,
  /** On hold at Evrotrust: not final, it can still be signed or rejected later. */
  onHold: 99,
} as const;

export type KnownStatusName = keyof typeof EVROTRUST_STATUS;
export type KnownStatusCode = (typeof EVROTRUST_STATUS)[KnownStatusName];
export type StatusName = KnownStatusName | 'unknown';

const NAME_BY_CODE: ReadonlyMap<number, KnownStatusName> = new Map(
  (Object.entries(EVROTRUST_STATUS) as [KnownStatusName, KnownStatusCode][]).map(([name, code]) => [code, name]),
);

/** Final codes: nothing more happens to the transaction at Evrotrust (2–8). */
const FINAL_CODES: ReadonlySet<number> = new Set<number>([
  EVROTRUST_STATUS.signed,
  EVROTRUST_STATUS.rejected,
  EVROTRUST_STATUS.expired,
  EVROTRUST_STATUS.failed,
  EVROTRUST_STATUS.withdrawn,
  EVROTRUST_STATUS.undeliverable,
  EVROTRUST_STATUS.faceRecognitionFailed,
]);

export function isKnownStatus(code: number): code is KnownStatusCode {
  return NAME_BY_CODE.has(code);
}

/** The name of a status code; `'unknown'` for codes this version does not know (log them). */
export function statusName(code: number): StatusName {
  return NAME_BY_CODE.get(code) ?? 'unknown';
}

/**
 * Whether a status is final. `signed` counts only once Evrotrust has stopped processing
 * (`isProcessing` false): before that the signed file may not be downloadable yet (docs/evrotrust.md).
 * Pass `isProcessing` when you have it (status answers); callbacks do not carry it, so a callback
 * saying 2 should be confirmed with `/document/status` before downloading.
 * Unknown codes and 1/99 are not final.
 */
export function isFinalStatus(code: number, isProcessing = false): boolean {
  if (!FINAL_CODES.has(code)) return false;
  if (code === EVROTRUST_STATUS.signed && isProcessing) return false;
  return true;
}

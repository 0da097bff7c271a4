// Caps on a `/document/download` answer, so that a compromised or buggy provider (a huge body, a ZIP
// with thousands of entries, a zip bomb, a header that lies about its size) fails the signing with
// a clear reason instead of exhausting the process. Checked on the wire (transport.ts: Content-Length,
// then while reading), from the ZIP's central directory before anything is inflated (zip.ts), and
// again while inflating, since headers can lie.

export interface DownloadLimits {
  /** The encrypted download as received (the outer ZIP). */
  maxDownloadBytes: number;
  /** Entries of each ZIP (the outer one and the decrypted inner one). */
  maxEntries: number;
  /** The inflated size of all entries of each ZIP together. */
  maxInflatedBytes: number;
  /** Inflated size ÷ compressed size of one entry (checked for entries over RATIO_CHECK_FROM_BYTES). */
  maxEntryRatio: number;
}

export const DEFAULT_DOWNLOAD_LIMITS: Readonly<DownloadLimits> = {
  maxDownloadBytes: 64 * 1024 * 1024,
  maxEntries: 64,
  maxInflatedBytes: 256 * 1024 * 1024,
  maxEntryRatio: 200,
};

/** Small entries cannot hurt whatever their ratio (a 1 KiB run of zeros compresses 100:1). */
export const RATIO_CHECK_FROM_BYTES = 1024 * 1024;

export type DownloadLimit = 'download-bytes' | 'entries' | 'inflated-bytes' | 'entry-ratio';

/** The download exceeds one of the caps: which one, and the figures (no contents, no names). */
export class DownloadTooLargeError extends Error {
  override readonly name = 'DownloadTooLargeError';
  constructor(
    readonly limit: DownloadLimit,
    /** What the download has (or declares), or at least this much when reading stopped early. */
    readonly actual: number,
    readonly max: number,
    detail?: string,
  ) {
    super(`the signed download exceeds the ${limit} limit: ${detail ?? `${actual} > ${max}`}`);
  }

  toJSON(): { limit: DownloadLimit; actual: number; max: number } {
    return { limit: this.limit, actual: this.actual, max: this.max };
  }
}

export function resolveDownloadLimits(limits: Partial<DownloadLimits> | undefined): DownloadLimits {
  const out = { ...DEFAULT_DOWNLOAD_LIMITS, ...stripUndefined(limits ?? {}) };
  for (const [key, value] of Object.entries(out)) {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`download limit ${key} must be a positive number`);
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

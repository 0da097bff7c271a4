// Durations in configuration and API bodies are written like `90s`, `15m`, `3d`: a whole number and
// one unit. Fractions (`0.4ms`, `1.5h`) are refused rather than rounded, so what is written is what
// is used; so is anything beyond a JavaScript date's range (`999999999d`), which would otherwise
// become an invalid date. Where a value is read, it also has bounds (DurationBounds).
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PATTERN = /^(\d{1,16})(ms|s|m|h|d)$/;
/** The span of a JavaScript Date either side of 1970 (100,000,000 days); no duration is longer. */
const MAX_MS = 8.64e15;

/** Milliseconds of a duration such as `90s`, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
  return Number.isSafeInteger(ms) && ms > 0 && ms <= MAX_MS ? ms : undefined;
}

/** The shortest exact spelling of a duration, e.g. 90000 → `90s`, 259200000 → `3d`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** The documented minimum and maximum of a duration setting or API field, both inclusive. */
export interface DurationBounds {
  minMs: number;
  maxMs: number;
}

/** `from 10s to 1d`, for messages. */
export function describeBounds(b: DurationBounds): string {
  return `from ${formatDuration(b.minMs)} to ${formatDuration(b.maxMs)}`;
}

export function withinBounds(ms: number, b: DurationBounds): boolean {
  return ms >= b.minMs && ms <= b.maxMs;
}

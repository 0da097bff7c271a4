// Command-line flags of the benchmarks: `--name value`, checked, with a default.

function raw(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function intArg(name: string, fallback: number): number {
  const r = raw(name);
  const v = r === undefined ? fallback : Number(r);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

/** Positive integers, comma-separated (`--sizes 1000,10000`). */
export function intListArg(name: string, fallback: number[]): number[] {
  const r = raw(name);
  if (r === undefined) return fallback;
  const v = r.split(',').map(Number);
  if (v.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--${name} takes positive integers, comma-separated`);
  return v;
}

export function choiceArg<const T extends readonly string[]>(name: string, choices: T, fallback: T[number]): T[number] {
  const r = raw(name) ?? fallback;
  if (!choices.includes(r)) throw new Error(`--${name} must be one of ${choices.join(', ')}`);
  return r as T[number];
}

export const flag = (name: string): boolean => process.argv.includes(`--${name}`);

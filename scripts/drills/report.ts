// The drills' table (markdown, one row per drill) and the verdict of a row.
import type { DrillResult } from './batch';

/** A row passes when nothing was lost, duplicated, stuck or ended against the signer's side, and the whole batch was accepted. */
export function passed(r: DrillResult, size: number): boolean {
  return r.lost === 0 && r.duplicated === 0 && r.stuck === 0 && r.wrongOutcome === 0 && r.signings === size && r.checks.length === 0;
}

const HEADER = [
  'drill',
  'signings',
  'faults injected',
  'signed',
  'rejected',
  'expired',
  'withdrawn',
  'failed',
  'lost',
  'duplicated',
  'stuck',
  'wrong outcome',
  'last final state',
  'verdict',
];

export function row(r: DrillResult, size: number): string {
  const cells = [
    r.drill,
    r.signings === size ? String(size) : `${r.signings} of ${size} accepted`,
    r.faults,
    String(r.counts.signed),
    String(r.counts.rejected),
    String(r.counts.expired),
    String(r.counts.withdrawn),
    String(r.counts.failed),
    String(r.lost),
    String(r.duplicated),
    String(r.stuck),
    String(r.wrongOutcome),
    r.lastFinalS === undefined ? '–' : `${r.lastFinalS.toFixed(1)} s`,
    passed(r, size) ? 'pass' : '**FAIL**',
  ];
  return `| ${cells.join(' | ')} |`;
}

export function table(results: DrillResult[], size: number): string {
  return [`| ${HEADER.join(' | ')} |`, `| ${HEADER.map(() => '---').join(' | ')} |`, ...results.map((r) => row(r, size))].join('\n');
}

export function details(results: DrillResult[]): string {
  return results
    .filter((r) => r.notes.length + r.checks.length > 0)
    .map((r) => `- ${r.drill}: ${[...r.checks.map((c) => `FAILED CHECK: ${c}`), ...r.notes].join('; ')}`)
    .join('\n');
}

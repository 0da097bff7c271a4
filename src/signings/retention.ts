// The retention job: deletes what a final signing no longer needs once it is old enough.
//
// - PERSONAL_DATA_RETENTION after `finalizedAt`: the signers' personal data (`signing_people`:
//   ЕГН, phone, e-mail). The signing's record (ids, statuses, times, digests) and its event
//   history stay; an event `personal-data-erased` (counts only) records that it was done.
// - SIGNED_DOCUMENT_RETENTION after `finalizedAt` (unset: kept forever): the signed files in GridFS.
//   Their name, digest and size stay on the record; GET …/signed-document answers 410 from then on.
//
// A periodic loop in the service process, like the reconciler: each pass takes the due signings in
// batches (indexes personalDataErasedAt_finalizedAt, signedDocumentsDeletedAt_finalizedAt), oldest
// first. Only final signings are touched, and after finalization nothing else writes them, so the
// FerretDB one-writer rule holds. Running it twice, or in two processes, is harmless: each step is
// idempotent.
import type { SigningStore } from './store';
import { briefError } from '../lib/brief-error';

export interface RetentionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RetentionOptions {
  store: SigningStore;
  /** Personal data is deleted this long after the signing is final. */
  personalDataMs: number;
  /** Signed files are deleted this long after the signing is final; null: kept. */
  signedDocumentMs: number | null;
  /** Between passes (default 1 h). */
  intervalMs?: number;
  /** Signings per query (default 100). */
  batchSize?: number;
  logger?: RetentionLogger;
}

export interface RetentionReport {
  personalDataErased: string[];
  signedDocumentsDeleted: string[];
}

const silent: RetentionLogger = { info() {}, warn() {} };

function describe(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport> | undefined;
  private stopped = false;
  private readonly log: RetentionLogger;

  constructor(private readonly opts: RetentionOptions) {
    this.log = opts.logger ?? silent;
  }

  start(): void {
    const interval = this.opts.intervalMs ?? 3_600_000;
    const loop = async () => {
      if (this.stopped) return;
      await this.runOnce().catch((err: unknown) => this.log.warn({ err: briefError(err) }, 'retention: pass failed; will try again'));
      if (!this.stopped) this.timer = setTimeout(() => void loop(), interval);
    };
    this.timer = setTimeout(() => void loop(), Math.min(10_000, interval));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent callers share the running one. */
  runOnce(now: Date = new Date()): Promise<RetentionReport> {
    this.running ??= this.pass(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(now: Date): Promise<RetentionReport> {
    const report: RetentionReport = { personalDataErased: [], signedDocumentsDeleted: [] };
    const { store, personalDataMs, signedDocumentMs } = this.opts;
    await this.sweep('personal', new Date(now.getTime() - personalDataMs), async (id) => {
      if (await store.erasePersonalData(id, describe(personalDataMs))) report.personalDataErased.push(id);
    });
    if (signedDocumentMs !== null) {
      await this.sweep('documents', new Date(now.getTime() - signedDocumentMs), async (id) => {
        if ((await store.deleteSignedDocuments(id, describe(signedDocumentMs))) > 0) report.signedDocumentsDeleted.push(id);
      });
    }
    if (report.personalDataErased.length > 0 || report.signedDocumentsDeleted.length > 0) {
      this.log.info(
        { personalDataErased: report.personalDataErased.length, signedDocumentsDeleted: report.signedDocumentsDeleted.length },
        'retention: deleted data of final signings past their retention',
      );
    }
    return report;
  }

  /** Handles every due signing, a batch at a time; each handled one leaves the query, so the loop ends. */
  private async sweep(what: 'personal' | 'documents', cutoff: Date, handle: (id: string) => Promise<void>): Promise<void> {
    const batchSize = this.opts.batchSize ?? 100;
    for (;;) {
      if (this.stopped) return;
      const due = await this.opts.store.retentionDue(what, cutoff, batchSize);
      for (const s of due) {
        if (this.stopped) return;
        await handle(s._id);
      }
      if (due.length < batchSize) return;
    }
  }
}

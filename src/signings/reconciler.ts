// The reconciler: finds `pending` signings that no workflow run is looking after and repairs them,
// so that a bug, a `terminate` from the Web UI or an outage at start cannot strand a signing.
//
// Each pass takes one page of pending signings (at most `batchSize`, in id order, index status__id)
// and resumes after it on the next pass, starting over after the last page: a pass costs the same
// with 10 or 10,000 pending signings, and every one is looked at once per cycle of passes. Of the
// page, the workflows Temporal's visibility lists as running (one list query for the page's ids) are
// fine; each other candidate is then described (visibility lags) and
//   - running                → nothing to do;
//   - closed (terminated, failed, timed out, or completed while the record says pending)
//                            → a new run, resuming from what the store knows (ensureWorkflow);
//   - never started, older than `notStartedGraceMs` (the start failed and its clean-up too: the
//     caller was told to retry) → ended `failed` (`not-started`). Nothing was sent for it.
// Several processes may reconcile the same store: starting a run is guarded by the workflow id
// (never two at once), ending a signing by its pending status, so doing it twice is harmless.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SIGNING_WORKFLOW_TYPE } from '../../workflows/definitions';
import type { SigningDoc } from '../store/collections';
import { signingFailure } from './failures';
import type { SigningService } from './service';
import { briefError } from '../lib/brief-error';

export interface ReconcilerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReconcilerOptions {
  service: SigningService;
  temporal: Client;
  taskQueue: string;
  /** Between passes (default 60 s). */
  intervalMs?: number;
  /** A pending signing without any workflow is left alone this long after creation (default 2 min): its start may still be under way. */
  notStartedGraceMs?: number;
  /** Pending signings looked at per pass (default 200). */
  batchSize?: number;
  logger?: ReconcilerLogger;
}

export interface ReconcileReport {
  /** Pending signings this pass looked at (one page). */
  pending: number;
  candidates: number;
  restarted: string[];
  notStarted: string[];
}

const silent: ReconcilerLogger = { info() {}, warn() {} };

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileReport> | undefined;
  private stopped = false;
  /** The last id of the previous page; null: the next pass starts from the first pending signing. */
  private resumeAfter: string | null = null;
  private readonly log: ReconcilerLogger;

  constructor(private readonly opts: ReconcilerOptions) {
    this.log = opts.logger ?? silent;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      await this.reconcileOnce().catch((err: unknown) =>
        this.log.warn({ err: briefError(err) }, 'reconciler: pass failed; will try again'),
      );
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.intervalMs ?? 60_000);
    };
    this.timer = setTimeout(() => void loop(), Math.min(5000, this.opts.intervalMs ?? 60_000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent callers share the running one. */
  reconcileOnce(): Promise<ReconcileReport> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<ReconcileReport> {
    const store = this.opts.service.store;
    const batchSize = Math.max(1, this.opts.batchSize ?? 200);
    let pending = await store.pendingPage(this.resumeAfter, batchSize);
    // Past the last page: start over at once rather than spend a pass on nothing.
    if (pending.length === 0 && this.resumeAfter !== null) pending = await store.pendingPage(null, batchSize);
    // Moved on before the page is worked: a signing whose repair keeps failing cannot hold the
    // reconciler on its page; it comes round again next cycle.
    this.resumeAfter = pending.length < batchSize ? null : (pending.at(-1)?._id ?? null);
    const report: ReconcileReport = { pending: pending.length, candidates: 0, restarted: [], notStarted: [] };
    if (pending.length === 0) return report;
    const running = await this.runningWorkflowIds(pending.map((p) => p.workflowId));
    for (const p of pending) {
      if (this.stopped) break;
      if (running?.has(p.workflowId)) continue;
      report.candidates += 1;
      const state = await this.runState(p.workflowId);
      if (state === 'running') continue;
      const doc = await store.get(p._id);
      if (!doc || doc.status !== 'pending') continue;
      if (state === 'closed') {
        await this.opts.service.ensureWorkflow(doc);
        report.restarted.push(doc._id);
        this.log.warn({ signingId: doc._id }, 'reconciler: pending signing had no running workflow; started a new run');
      } else if (Date.now() - doc.createdAt.getTime() > (this.opts.notStartedGraceMs ?? 120_000)) {
        await this.endNotStarted(doc);
        report.notStarted.push(doc._id);
      }
    }
    return report;
  }

  /**
   * Which of `workflowIds` run on our task queue (one list query, bounded by the page), or undefined
   * when visibility cannot answer (then each is described). An id that cannot be quoted safely is
   * left out of the query, so it is described.
   */
  private async runningWorkflowIds(workflowIds: readonly string[]): Promise<Set<string> | undefined> {
    try {
      const ids = new Set<string>();
      const quotable = workflowIds.filter((id) => /^[\w.:-]+$/.test(id));
      if (quotable.length === 0) return ids;
      const query =
        `WorkflowType="${SIGNING_WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND TaskQueue="${this.opts.taskQueue}"` +
        ` AND WorkflowId IN (${quotable.map((id) => `"${id}"`).join(',')})`;
      for await (const wf of this.opts.temporal.workflow.list({ query })) ids.add(wf.workflowId);
      return ids;
    } catch (err) {
      this.log.warn({ err: briefError(err) }, 'reconciler: visibility list failed; describing each pending signing');
      return undefined;
    }
  }

  private async runState(workflowId: string): Promise<'running' | 'closed' | 'missing'> {
    try {
      const d = await this.opts.temporal.workflow.getHandle(workflowId).describe();
      return d.status.name === 'RUNNING' ? 'running' : 'closed';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'missing';
      throw err;
    }
  }

  private async endNotStarted(doc: SigningDoc): Promise<void> {
    const store = this.opts.service.store;
    await store.finalize(doc._id, 'failed', { rejectReason: null, failure: signingFailure('not-started') }, doc);
    this.log.warn({ signingId: doc._id }, 'reconciler: pending signing was never started; ended failed (not-started)');
  }
}

// `npm run drills [-- <name> …]`: scripted faults against the real local stack, each with a batch
// of signings in flight; prints one table row per drill and exits non-zero if any count is off.
// Every process it starts runs in a temporary directory on free loopback ports and is stopped on
// the way out, whatever the way out is (failure, Ctrl-C, or even SIGKILL via the guards).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { API_TOKEN, DrillStack } from './stack';
import { ApiClient, SimControls } from './clients';
import { BATCH, DRILLS, killNpmStarts, type DrillContext } from './drills';
import type { DrillResult } from './batch';
import { details, passed, row, table } from './report';

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !DRILLS.some((d) => d.name === w));
  if (unknown.length > 0) {
    console.error(`unknown drill ${unknown.join(', ')}; one of: ${DRILLS.map((d) => d.name).join(', ')}`);
    return 2;
  }
  const drills = wanted.length > 0 ? DRILLS.filter((d) => wanted.includes(d.name)) : DRILLS;
  const workDir = mkdtempSync(join(tmpdir(), 'evrotrust-drills-'));
  const started = Date.now();
  const log = (line: string) => console.log(`[drills ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const stack = new DrillStack(workDir, { pollInterval: '5s', defaultExpiry: '5m' });
  let mongo: MongoClient | undefined;

  const cleanup = async () => {
    killNpmStarts();
    await stack.stopAll();
    await mongo?.close().catch(() => {});
  };
  process.on('exit', () => {
    killNpmStarts();
    stack.killAllNow();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`\n[drills] ${sig}: stopping everything`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const results: DrillResult[] = [];
  let ok = true;
  try {
    const needsStack = drills.some((d) => d.name !== 'ctrl-c');
    if (needsStack) {
      log(`starting the stack in ${workDir}`);
      await stack.start();
      mongo = new MongoClient(stack.mongoUri, { serverSelectionTimeoutMS: 2000 });
      log(`stack up: API ${stack.apiUrl}, simulator ${stack.simUrl}, MongoDB ${stack.mongoUri}`);
    }
    const ctx: DrillContext = {
      stack,
      workDir,
      log,
      targets: {
        api: new ApiClient(() => stack.apiUrl, API_TOKEN),
        sim: new SimControls(() => stack.simUrl),
        db: (mongo ?? new MongoClient('mongodb://127.0.0.1:9/none')).db('drills'),
      },
    };
    for (const drill of drills) {
      log(`▶ ${drill.name}: ${drill.what}`);
      const t = Date.now();
      let result: DrillResult;
      try {
        result = await drill.run(ctx);
      } catch (err) {
        result = {
          drill: drill.name,
          signings: 0,
          faults: 'harness error',
          counts: { signed: 0, rejected: 0, expired: 0, withdrawn: 0, failed: 0 },
          lost: 0,
          duplicated: 0,
          stuck: 0,
          wrongOutcome: 0,
          lastFinalS: undefined,
          notes: [],
          checks: [`harness error: ${(err as Error).message}`],
        };
      }
      results.push(result);
      ok &&= passed(result, BATCH);
      log(`${row(result, BATCH)}   (${((Date.now() - t) / 1000).toFixed(0)} s)`);
      for (const n of [...result.checks.map((c) => `FAILED CHECK: ${c}`), ...result.notes]) log(`   ${n}`);
      // Leave the next drill a healthy stack and an Evrotrust without leftover faults.
      if (needsStack && drill.name !== 'ctrl-c') {
        await stack.ensureAll();
        await ctx.targets.sim.clearFaults().catch(() => {});
        await ctx.targets.sim.callbackBehavior('*', { mode: 'normal' }).catch(() => {});
      }
    }
  } finally {
    await cleanup();
  }
  const wall = (Date.now() - started) / 1000;
  console.log(
    `\n${table(results, BATCH)}\n\nwall time ${Math.floor(wall / 60)} min ${Math.round(wall % 60)} s; ${BATCH} signings per drill; poll interval 5 s\n`,
  );
  const why = details(results);
  if (why) console.log(`Details:\n${why}\n`);
  if (ok) rmSync(workDir, { recursive: true, force: true });
  else console.log(`logs kept in ${join(workDir, 'logs')}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[drills] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);

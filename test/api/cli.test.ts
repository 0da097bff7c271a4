// The CLI as a user runs it: `node --import tsx src/cli.ts …` in a child process, configured only by
// the environment, against this run's Temporal, FerretDB, a worker and the simulator.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCli, type CliRun } from '../helpers/cli';
import { pdf, sentTransactions, SIGNER_A, useSigningEnv } from '../helpers/signing-env';
import { signingDoc } from '../helpers/signings';

// Each CLI run pays for a Node + tsx start (~1.5 s), so the independent cases run concurrently.
describe('CLI (src/cli.ts)', { concurrency: true }, () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });
  const dir = mkdtempSync(join(tmpdir(), 'evrotrust-cli-'));
  const cli = useCli(env);
  const errorOf = (run: CliRun): { error: string; message: string } => JSON.parse(run.stderr.trim()) as { error: string; message: string };

  it('usage errors exit 2 with a hint; --help exits 0', async () => {
    const [none, missing, unknown, badOption, noSigner, help] = await Promise.all([
      cli([]),
      cli(['status']),
      cli(['frobnicate']),
      cli(['start', '--file', 'x.pdf', '--colour', 'red']),
      cli(['start', '--file', 'x.pdf']),
      cli(['--help']),
    ]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: npm run cli/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /status takes <id>/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /--colour/);
    assert.equal(noSigner.code, 2);
    assert.match(noSigner.stderr, /--signer/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /download <id>/);
    assert.match(help.stdout, /list \[options\]/);
  });

  it('an invalid environment variable exits 2 naming it', async () => {
    const run = await cli(['status', randomUUID()], { TEMPORAL_ADDRESS: 'not an address' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^TEMPORAL_ADDRESS: expected/);
  });

  it('status of an unknown id exits 1 with { error: not-found } on stderr', async () => {
    const id = randomUUID();
    const run = await cli(['status', id]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, '');
    assert.deepEqual(errorOf(run), { error: 'not-found', message: `no signing with id ${id}` });
  });

  it('start (twice, same reference) → status → signed → result → download; refuses to overwrite', async () => {
    const file = join(dir, 'contract.pdf');
    writeFileSync(file, pdf(`cli ${randomUUID()}`));
    const reference = `cli-${randomUUID()}`;
    const args = [
      'start',
      '--file',
      file,
      '--signer',
      '7501010010',
      '--expires',
      '1h',
      '--reference',
      reference,
      '--description',
      'CLI test',
    ];
    const started = await cli(args);
    assert.equal(started.code, 0, started.stderr);
    const first = JSON.parse(started.stdout) as { id: string; status: string; created: boolean };
    assert.equal(first.status, 'pending');
    assert.equal(first.created, true);
    const again = await cli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { ...first, created: false });

    const [tx] = await sentTransactions(env, first.id);
    const status = await cli(['status', first.id]);
    assert.equal(status.code, 0, status.stderr);
    const shown = JSON.parse(status.stdout) as { id: string; status: string; reference: string };
    assert.equal(shown.status, 'pending');
    assert.equal(shown.reference, reference);
    assert.doesNotMatch(status.stdout, /7501010010/, 'no personal data in the output');

    await env.sim.controls.sign(tx as string);
    const result = await cli(['result', first.id]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { status: string }).status, 'signed');

    const out = join(dir, 'signed.pdf');
    const downloaded = await cli(['download', first.id, '--out', out]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    const simSigned = env.sim.controls.transaction(tx as string)?.signedDocument;
    assert.ok(simSigned);
    assert.equal(Buffer.compare(readFileSync(out), Buffer.from(simSigned.content)), 0, 'the file holds the bytes the simulator signed');
    assert.deepEqual(JSON.parse(downloaded.stdout), {
      id: first.id,
      file: out,
      filename: 'contract.pdf',
      contentType: 'application/pdf',
      size: simSigned.content.byteLength,
    });

    const overwrite = await cli(['download', first.id, '--out', out]);
    assert.equal(overwrite.code, 1);
    assert.equal(errorOf(overwrite).error, 'exists');
    const forced = await cli(['download', first.id, '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);

    const withdraw = await cli(['withdraw', first.id]);
    assert.equal(withdraw.code, 1);
    assert.equal(errorOf(withdraw).error, 'already-final');
  });

  it('list: filters and pages as JSON; a bad filter or a foreign cursor exits 1 with the message', async () => {
    const reference = `cli-list-${randomUUID()}`;
    const { id } = await env.service.start({
      document: { filename: 'l.pdf', content: pdf(randomUUID()) },
      signers: [SIGNER_A],
      reference,
      expiresIn: '1h',
    });
    await sentTransactions(env, id); // so nothing about it changes while it is listed
    const byReference = await cli(['list', '--reference', reference, '--status', 'pending', '--status', 'signed']);
    assert.equal(byReference.code, 0, byReference.stderr);
    assert.deepEqual(JSON.parse(byReference.stdout), { items: [JSON.parse((await cli(['status', id])).stdout)], nextCursor: null });

    // Pages: two records in a past hour of this case's own (the other cases start signings concurrently, now).
    const hour = Date.parse('2001-01-01T00:00:00Z') + Math.floor(Math.random() * 100_000) * 3_600_000;
    const older = signingDoc(randomUUID(), { status: 'expired', createdAt: new Date(hour + 1000) });
    const newer = signingDoc(randomUUID(), { status: 'expired', createdAt: new Date(hour + 2000) });
    await Promise.all([env.store.create(older), env.store.create(newer)]);
    const window = [
      '--status',
      'expired',
      '--created-after',
      new Date(hour).toISOString(),
      '--created-before',
      new Date(hour + 3_600_000).toISOString(),
    ];
    const first = await cli(['list', ...window, '--limit', '1']);
    assert.equal(first.code, 0, first.stderr);
    const page1 = JSON.parse(first.stdout) as { items: { id: string }[]; nextCursor: string | null };
    assert.deepEqual(
      page1.items.map((i) => i.id),
      [newer._id],
    );
    assert.ok(page1.nextCursor);
    const [second, foreign, badLimit, badDate] = await Promise.all([
      cli(['list', ...window, '--limit', '1', '--cursor', page1.nextCursor]),
      cli(['list', '--status', 'signed', '--cursor', page1.nextCursor]),
      cli(['list', '--limit', '0']),
      cli(['list', '--created-after', 'yesterday']),
    ]);
    assert.equal(second.code, 0, second.stderr);
    const page2 = JSON.parse(second.stdout) as { items: { id: string; status: string }[]; nextCursor: string | null };
    assert.deepEqual(
      page2.items.map((i) => [i.id, i.status]),
      [[older._id, 'expired']],
    );
    assert.equal(page2.nextCursor, null);
    assert.equal(foreign.code, 1);
    assert.equal(errorOf(foreign).error, 'invalid-cursor');
    assert.match(errorOf(foreign).message, /other filters/);
    assert.equal(badLimit.code, 1);
    assert.deepEqual(errorOf(badLimit), { error: 'invalid-request', message: 'limit must be a whole number from 1 to 200' });
    assert.equal(badDate.code, 1);
    assert.match(errorOf(badDate).message, /^createdAfter must be an ISO-8601 instant/);
  });

  it('a request the service refuses exits 1 with its message; download of a pending signing is not-signed', async () => {
    const file = join(dir, 'otp.pdf');
    writeFileSync(file, pdf(`cli otp ${randomUUID()}`));
    const refused = await cli(['start', '--file', file, '--signer', '7501010010', '--method', 'otp']);
    assert.equal(refused.code, 1);
    assert.deepEqual(errorOf(refused), {
      error: 'invalid-request',
      message: 'signers[0]: an OTP signer needs identificationNumber and phone',
    });

    const started = await cli(['start', '--file', file, '--signer', '7501010010']);
    assert.equal(started.code, 0, started.stderr);
    const { id } = JSON.parse(started.stdout) as { id: string };
    await sentTransactions(env, id);
    const early = await cli(['download', id]);
    assert.equal(early.code, 1);
    assert.equal(errorOf(early).error, 'not-signed');
    const wrongMethod = await cli(['otp', id, '123456']);
    assert.equal(wrongMethod.code, 1);
    assert.equal(errorOf(wrongMethod).error, 'not-otp');
    const withdrawn = await cli(['withdraw', id]);
    assert.equal(withdrawn.code, 0, withdrawn.stderr);
    assert.deepEqual(JSON.parse(withdrawn.stdout), { id, status: 'pending' });
    assert.equal((await env.service.result(id)).status, 'withdrawn');
  });
});

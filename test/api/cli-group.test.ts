// The CLI's group signing as a user runs it (child processes, configured by the environment):
// `start` with several --file, then `download --document <n>` for each signed file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCli } from '../helpers/cli';
import { pdf, sentTransactions, SIGNER_A, SIGNER_B, useSigningEnv } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';

describe('CLI group signing (several --file)', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });
  const dir = mkdtempSync(join(tmpdir(), 'evrotrust-cli-group-'));
  const cli = useCli(env);

  it('start --file ×3 --optional 3 → one group signing; download --document n saves each signed file', async () => {
    const names = ['contract.pdf', 'annex.pdf', 'consent.pdf'];
    const paths = names.map((n) => join(dir, n));
    paths.forEach((p, i) => writeFileSync(p, pdf(`cli ${i} ${randomUUID()}`)));
    const started = await cli([
      'start',
      ...paths.flatMap((p) => ['--file', p]),
      '--optional',
      '3',
      '--description',
      'Contract',
      '--description',
      'Annex',
      '--description',
      'Consent',
      '--signer',
      SIGNER_A.identificationNumber,
      '--signer',
      SIGNER_B.identificationNumber,
    ]);
    assert.equal(started.code, 0, started.stderr);
    const { id } = JSON.parse(started.stdout) as { id: string };
    const [txA, txB] = (await sentTransactions(env, id, 2)) as [string, string];
    assert.deepEqual(
      env.sim.controls.transaction(txA)?.documents?.map((d) => [d.filename, d.description, d.optional]),
      [
        ['contract.pdf', 'Contract', false],
        ['annex.pdf', 'Annex', false],
        ['consent.pdf', 'Consent', true],
      ],
    );
    await env.sim.controls.sign(txA);
    await env.sim.controls.sign(txB);
    await waitFor(async () => (await env.service.get(id)).status === 'signed', 'signed');
    const produced = env.sim.controls.transaction(txB)?.documents ?? [];
    const runs = await Promise.all(
      names.map((_, i) => cli(['download', id, '--document', String(i + 1), '--out', join(dir, `signed-${i + 1}.pdf`)])),
    );
    for (const [i, run] of runs.entries()) {
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(readFileSync(join(dir, `signed-${i + 1}.pdf`)), Buffer.from(produced[i]?.signedDocument?.content ?? []));
    }
    const [whole, bad] = await Promise.all([cli(['download', id, '--out', join(dir, 'x.pdf')]), cli(['download', id, '--document', '0'])]);
    assert.equal(whole.code, 1);
    assert.match(whole.stderr, /several-documents/);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--document takes the 1-based position/);
  });

  it('usage: --optional 1, --filename with several files, a second --description count', async () => {
    const p = join(dir, 'u.pdf');
    writeFileSync(p, pdf('usage'));
    const [first, filename, descriptions] = await Promise.all([
      cli(['start', '--file', p, '--file', p, '--optional', '1', '--signer', SIGNER_A.identificationNumber]),
      cli(['start', '--file', p, '--file', p, '--filename', 'x.pdf', '--signer', SIGNER_A.identificationNumber]),
      cli([
        'start',
        '--file',
        p,
        '--file',
        p,
        '--file',
        p,
        '--description',
        'a',
        '--description',
        'b',
        '--signer',
        SIGNER_A.identificationNumber,
      ]),
    ]);
    for (const run of [first, filename, descriptions]) assert.equal(run.code, 2, run.stderr);
    assert.match(first.stderr, /--optional takes the position/);
    assert.match(filename.stderr, /--filename is for one --file only/);
    assert.match(descriptions.stderr, /once per --file/);
  });
});

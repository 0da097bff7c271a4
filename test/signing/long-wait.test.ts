// A long wait keeps a small history: past the event limit the workflow continues as new with what
// it knows (thread, transactions, statuses), and the signing still ends correctly and exactly once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventCount, finalSigning, pdf, sentTransactions, SIGNER_A, SIGNER_B, useSigningEnv } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';

describe('signingWorkflow continues as new during a long wait', () => {
  const env = useSigningEnv({ pollIntervalMs: 100, continueAsNewAfterEvents: 40 });

  it('two signers across several runs: one signs, the workflow continues as new, the other signs', async () => {
    const { id } = await env.service.start({ document: { filename: 'long.pdf', content: pdf('long') }, signers: [SIGNER_A, SIGNER_B] });
    const [a, b] = await sentTransactions(env, id, 2);
    await env.sim.controls.sign(a as string);
    const handle = env.temporal.workflow.getHandle(`signing-${id}`);
    const firstRun = (await handle.describe()).runId;
    await waitFor(async () => ((await handle.describe()).runId !== firstRun ? true : undefined), 'a second run', 30_000);
    assert.equal(
      ((await handle.query('status')) as { signers: { status: string }[] }).signers[0]?.status,
      'signed',
      'the new run knows the first signature',
    );
    await env.sim.controls.sign(b as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    assert.equal(s.signedDocuments?.length, 2);
    const sends = await eventCount(env, id, 'sent');
    assert.equal(sends, 1, 'the document was sent once across all runs');
  });
});

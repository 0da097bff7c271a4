// The signings page (/ui/) driven in headless Chromium against the production server composition on
// the real stack: the token form, the list with its filters and paging, one signing's state,
// signers and history, the signed file downloaded byte for byte, and the link to its workflow in
// the Temporal Web UI. Screenshots: test-results/signings-page-list.png, signings-page-signing.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { buildServer } from '../../src/http/server';
import { signingApiRoutes } from '../../src/signings/routes';
import { signingsPageRoutes } from '../../src/ui/routes';
import { pdf, sentTransactions, SIGNER_A, useSigningEnv } from '../helpers/signing-env';
import { launchChromium } from '../helpers/chromium';
import { waitFor } from '../helpers/wait';

const TOKEN = `test-${randomBytes(16).toString('hex')}`;
const TEMPORAL_UI = 'http://temporal-ui.example:8233';
const artifacts = join(__dirname, '..', '..', 'test-results');

describe('signings page (/ui/) in Chromium', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;
  let page: Page;
  const run = randomUUID().slice(0, 8);
  const ids: { signed: string; pending: string; withdrawn: string } = { signed: '', pending: '', withdrawn: '' };

  before(async () => {
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      plugins: [
        async (a) => void (await a.register(signingApiRoutes, { service: env.service, apiToken: TOKEN })),
        async (a) => void (await a.register(signingsPageRoutes, { namespace: 'default', temporalUiUrl: TEMPORAL_UI })),
      ],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    // Three signings of this run: one signed, one pending, one withdrawn; a reference marks them.
    const start = (n: string) =>
      env.service.start({
        document: { filename: `${n}.pdf`, content: pdf(`${n} ${run}`) },
        signers: [SIGNER_A],
        reference: `ui-${run}-${n}`,
      });
    ids.signed = (await start('signed')).id;
    ids.pending = (await start('pending')).id;
    ids.withdrawn = (await start('withdrawn')).id;
    const [tx] = await sentTransactions(env, ids.signed);
    await sentTransactions(env, ids.pending);
    await sentTransactions(env, ids.withdrawn);
    env.sim.controls.sign(tx as string);
    await env.service.withdraw(ids.withdrawn);
    await waitFor(async () => (await env.service.get(ids.signed)).status === 'signed', 'signed');
    await waitFor(async () => (await env.service.get(ids.withdrawn)).status === 'withdrawn', 'withdrawn');

    browser = await launchChromium();
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  const rowsShown = async () => (await page.locator('#signings tbody tr').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());

  it('serves the page with a strict Content-Security-Policy and no inline code', async () => {
    const res = await fetch(`${url}/ui/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|<style/i, 'no inline script, handler or style');
    assert.equal((await fetch(`${url}/ui`, { redirect: 'manual' })).headers.get('location'), '/ui/');
    const js = readFileSync(join(__dirname, '..', '..', 'src', 'ui', 'page.ts'), 'utf8');
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'data is never parsed as HTML');
  });

  it('asks for the token, refuses a wrong one, then lists the signings and filters them', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/ui/`);
    await page.locator('#token').fill('wrong-token-0123456789');
    await page.locator('#login-form button').click();
    await page.locator('#error', { hasText: /token/i }).waitFor();
    assert.ok(await page.locator('#login').isVisible(), 'back at the token form');

    await page.locator('#token').fill(TOKEN);
    await page.locator('#login-form button').click();
    await page.locator('#reference').fill(`ui-${run}-signed`);
    await page.locator('#filters button[type=submit]').click();
    await waitFor(
      async () => (await rowsShown()).length === 1 && (await rowsShown())[0]?.includes(ids.signed),
      'the one signing with that reference',
    );
    assert.match((await rowsShown())[0] ?? '', /signed/);

    // The status filter: only withdrawn signings (the suite's others among them), ours included.
    await page.locator('#reference').fill('');
    await page.locator('#status-withdrawn').check();
    await page.locator('#filters button[type=submit]').click();
    await waitFor(async () => {
      const rows = await rowsShown();
      return rows.length > 0 && rows.every((r) => / withdrawn /.test(` ${r} `)) && rows.some((r) => r.includes(ids.withdrawn));
    }, 'only withdrawn signings, ours among them');
    await page.locator('#status-withdrawn').uncheck();
    await page.locator('#filters button[type=submit]').click();
    await waitFor(async () => {
      const rows = await rowsShown();
      return [ids.signed, ids.pending, ids.withdrawn].every((id) => rows.some((r) => r.includes(id)));
    }, 'all three');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'signings-page-list.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });

  it("shows one signing's state, signers and history, downloads its signed file byte for byte, and links to its workflow", async () => {
    await page.locator(`#signings a`, { hasText: ids.signed }).click();
    await page.locator('#detail-title', { hasText: 'signed' }).waitFor();
    const facts = await page.locator('#facts').innerText();
    assert.match(facts, new RegExp(`ui-${run}-signed`));
    assert.match(facts, /Signed file/);
    const signers = await page.locator('#signers tbody tr').allInnerTexts();
    assert.equal(signers.length, 1);
    const stored = await env.service.get(ids.signed);
    assert.match(signers[0] ?? '', new RegExp(stored.signers[0]?.transactionId ?? 'none'));
    assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(SIGNER_A.identificationNumber), 'no ЕГН on the page');
    const events = (await page.locator('#events tbody tr').allInnerTexts()).join('\n');
    for (const type of ['created', 'sent']) assert.match(events, new RegExp(type));

    assert.equal(
      await page.locator('#workflow-link').getAttribute('href'),
      `${TEMPORAL_UI}/namespaces/default/workflows/signing-${ids.signed}`,
    );

    const downloading = page.waitForEvent('download');
    await page.locator('#download').click();
    const download = await downloading;
    const path = await download.path();
    const expected = await env.service.signedDocument(ids.signed);
    assert.ok(Buffer.from(readFileSync(path)).equals(Buffer.from(expected.content)), 'the downloaded file is the signed file');
    assert.equal(download.suggestedFilename(), expected.filename);
    await page.screenshot({ path: join(artifacts, 'signings-page-signing.png'), fullPage: true });

    // A pending one has no download, and the way back leads to the list.
    await page.goto(`${url}/ui/#/signings/${ids.pending}`);
    await page.locator('#detail-title', { hasText: 'pending' }).waitFor();
    assert.equal(await page.locator('#download').count(), 0);
    await page.locator('#back').click();
    await page.locator('#list').waitFor();
  });
});

// The signer page in real headless Chromium: a click on Sign leads to a callback that a test server
// receives from the configured source address; Reject asks for a reason that reaches the callback;
// an OTP signing shows its SMS code; user text is shown as text, never as markup.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Simulator } from '../../simulator';
import {
  VALID_EGN,
  offlineData,
  sendOnline,
  startCallbackServer,
  startTestSimulator,
  vendorMultipart,
  type CallbackServer,
} from './helpers';
import { launchChromium } from '../helpers/chromium';
import { waitFor } from '../helpers/wait';

let sim: Simulator;
let receiver: CallbackServer;
let browser: Browser;

before(async () => {
  receiver = await startCallbackServer();
  sim = await startTestSimulator();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await sim?.close();
  await receiver?.close();
});

async function openPhone(signer: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 480, height: 900 } });
  page.setDefaultTimeout(5000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(sim.url + '/');
  await page.getByLabel('Signer').fill(signer);
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByText('Signed in as').waitFor();
  assert.deepEqual(errors, [], 'no script errors');
  return page;
}

describe('signer page', () => {
  it('Sign: the click leads to a callback from 127.0.0.2', async () => {
    const { transactionID } = await sendOnline(sim, { urlCallback: receiver.url, description: 'Rental agreement, flat 12' });
    const page = await openPhone(VALID_EGN);
    try {
      const card = page.locator(`article[data-tx="${transactionID}"]`);
      await card.getByText('Rental agreement, flat 12').waitFor();
      await card.getByRole('button', { name: 'Sign' }).click();
      await waitFor(
        () => receiver.received.find((r) => (r.body as { transactionID: string }).transactionID === transactionID),
        'the callback',
      );
      const cb = receiver.received.find((r) => (r.body as { transactionID: string }).transactionID === transactionID);
      assert.equal(cb?.remoteAddress, '127.0.0.2');
      assert.equal(cb?.path, '/hook/document/ready');
      assert.deepEqual(cb?.body, { transactionID, status: 2 });
      // The page moves it to the history as signed.
      await page.locator('#history').locator(`article[data-tx="${transactionID}"]`).getByText('Signed').waitFor();
    } finally {
      await page.close();
    }
  });

  it('Reject asks for a reason, which reaches the callback; markup in a description stays text', async () => {
    const hostile = '<img src=x onerror="document.body.dataset.pwned=1">Invoice <b>42</b>';
    const { transactionID } = await sendOnline(sim, { urlCallback: receiver.url, description: hostile });
    const otp = await vendorMultipart(sim, '/document/doc/offline', offlineData({ urlCallback: receiver.url }));
    const otpID = (otp.json as { transactionID: string }).transactionID;
    const page = await openPhone(VALID_EGN);
    try {
      const card = page.locator(`article[data-tx="${transactionID}"]`);
      await card.getByText(hostile).waitFor(); // shown literally
      // A string, not a function: the tests compile without the DOM typings.
      assert.equal(await page.evaluate('document.body.dataset.pwned'), undefined);
      assert.equal(await card.locator('img, b').count(), 0);

      // The OTP signing shows its SMS code.
      const code = sim.controls.transaction(otpID)?.otpCode;
      assert.ok(code);
      await page.locator(`[data-otp="${otpID}"]`).getByText(code).waitFor();

      await page.screenshot({ path: '/tmp/signer-page.png', fullPage: true });

      await card.getByRole('button', { name: 'Reject' }).click();
      const reason = card.getByLabel('Reason for rejecting');
      await reason.waitFor();
      await card.getByRole('button', { name: 'Confirm reject' }).click(); // empty: refused
      assert.equal(sim.controls.transaction(transactionID)?.status, 1);
      await reason.fill('The amount is wrong');
      await card.getByRole('button', { name: 'Confirm reject' }).click();
      await waitFor(
        () => receiver.received.find((r) => (r.body as { transactionID: string }).transactionID === transactionID),
        'the reject callback',
      );
      const cb = receiver.received.find((r) => (r.body as { transactionID: string }).transactionID === transactionID);
      assert.equal(cb?.remoteAddress, '127.0.0.2');
      assert.deepEqual(cb?.body, { transactionID, status: 3, rejectReason: 'The amount is wrong' });
      await page.locator('#history').getByText('Reason: The amount is wrong').waitFor();
    } finally {
      await page.close();
    }
  });
});

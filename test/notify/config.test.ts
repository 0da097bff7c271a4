// NOTIFY_URL, NOTIFY_SECRET and NOTIFY_GIVE_UP_AFTER (src/config-notify.ts), validated at start like
// every variable: a bad one is a ConfigError naming it, and the secret is never part of a message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { sandboxNotifySecret } from '../../src/dependencies';
import { secretKey } from '../../src/notify/signature';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('NOTIFY_* configuration', () => {
  const PROD = {
    EVROTRUST_BASE_URL: 'https://et.test.iteco.bg/vendor',
    EVROTRUST_VENDOR_NUMBER: 'V1',
    EVROTRUST_API_KEY: 'k',
    EVROTRUST_PRIVATE_KEY_FILE: '/etc/evrotrust/key.pem',
    PUBLIC_BASE_URL: 'https://signing.example.com',
    CALLBACK_ALLOWED_IPS: '203.0.113.10',
    API_TOKEN: 'a-long-enough-token',
  };
  const refused = (env: Record<string, string>, variable: string, pattern: RegExp) =>
    assert.throws(
      () => loadConfig(env),
      (err: unknown) => err instanceof ConfigError && err.variable === variable && pattern.test(err.message),
    );

  it('defaults: no URL, no secret, give up after 3 days', () => {
    const c = loadConfig(PROD);
    assert.deepEqual(c.notify, { giveUpAfterMs: 3 * 86_400_000 });
  });

  it('reads NOTIFY_URL, NOTIFY_SECRET and NOTIFY_GIVE_UP_AFTER', () => {
    const c = loadConfig({ ...PROD, NOTIFY_URL: 'https://hooks.example.com/s', NOTIFY_SECRET: SECRET, NOTIFY_GIVE_UP_AFTER: '12h' });
    assert.deepEqual(c.notify, { defaultUrl: 'https://hooks.example.com/s', secret: SECRET, giveUpAfterMs: 12 * 3_600_000 });
  });

  it('refuses a bad URL, a bad secret (unquoted), an out-of-range bound, and NOTIFY_URL without a secret outside the sandbox', () => {
    refused({ ...PROD, NOTIFY_URL: 'http://hooks.example.com/s' }, 'NOTIFY_URL', /only for localhost/);
    refused({ ...PROD, NOTIFY_SECRET: 'whsec_c2VjcmV0' }, 'NOTIFY_SECRET', /whsec_ followed by the Base64 of 24–64 random bytes.*6 bytes/);
    assert.throws(
      () => loadConfig({ ...PROD, NOTIFY_SECRET: 'whsec_c2VjcmV0' }),
      (err: unknown) => !String(err).includes('c2VjcmV0'),
    );
    refused({ ...PROD, NOTIFY_GIVE_UP_AFTER: '10s' }, 'NOTIFY_GIVE_UP_AFTER', /from 1m to 30d/);
    refused({ ...PROD, NOTIFY_URL: 'https://hooks.example.com/s' }, 'NOTIFY_SECRET', /required when NOTIFY_URL is set/);
    // The sandbox generates its secret (src/dependencies.ts), so a default URL alone is fine there.
    assert.equal(loadConfig({ NOTIFY_URL: 'http://127.0.0.1:9999/h' }).notify.defaultUrl, 'http://127.0.0.1:9999/h');
  });
});

describe('the sandbox webhook secret (npm start)', () => {
  it('is generated into DATA_DIR/notify-secret (owner-only), kept across restarts, and a corrupted file stops the start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evrotrust-notify-secret-'));
    const first = sandboxNotifySecret(dir);
    assert.equal(first.file, join(dir, 'notify-secret'));
    assert.equal(secretKey(first.secret).byteLength, 32);
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.deepEqual(sandboxNotifySecret(dir), first);
    writeFileSync(first.file, 'not a secret\n');
    assert.throws(() => sandboxNotifySecret(dir), /webhook secret is not usable: it must start with whsec_/);
  });
});

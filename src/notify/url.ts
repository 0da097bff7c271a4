// Where a signing's final state may be POSTed: https anywhere, plain http only to this machine
// (a receiver in development), since the body and a token in the URL would travel in clear text.

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export const NOTIFY_URL_EXPECTED =
  'an https:// URL (http:// only for localhost, 127.0.0.1 or [::1]), e.g. https://example.com/hooks/signing';

/** Why `text` is not a notification URL, or undefined when it is. Never quotes the URL (it may carry a token). */
export function notifyUrlProblem(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `it is not a URL; expected ${NOTIFY_URL_EXPECTED}`;
  }
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:')
    return LOOPBACK_HOSTS.has(u.hostname) ? undefined : `http:// is allowed only for localhost, 127.0.0.1 or [::1]; use https://`;
  return `it must be https:// (or http:// for localhost), not ${u.protocol.replace(/:$/, '')}`;
}

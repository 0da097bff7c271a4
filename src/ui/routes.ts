// The signings page for business users (README "Signings page"): GET /ui/ and its script and
// style, all static. The page asks for the API token, keeps it in the tab's sessionStorage only,
// and calls the business API with it, so it can show nothing the token could not already fetch.
// A strict Content-Security-Policy allows only this origin's script, style and API; the script
// builds every element with textContent (no HTML from data), so a reference or a reject reason
// cannot inject markup.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page';

export const UI_PREFIX = '/ui';

export interface SigningsPageOptions {
  /** The Temporal Web UI's base URL (TEMPORAL_UI_URL): each signing links to its workflow there. */
  temporalUiUrl?: string;
  /** The Temporal namespace the workflows run in. */
  namespace: string;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const hidden = { schema: { hide: true } }; // a page, not an API: not in /docs

const page = (reply: FastifyReply, type: string, body: string) =>
  reply
    .header('content-type', type)
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .send(body);

export const signingsPageRoutes: FastifyPluginAsync<SigningsPageOptions> = async (app, opts) => {
  const config = JSON.stringify({ temporalUiUrl: opts.temporalUiUrl ?? null, namespace: opts.namespace });
  app.get(UI_PREFIX, hidden, async (_request, reply) => reply.redirect(`${UI_PREFIX}/`));
  app.get(`${UI_PREFIX}/`, hidden, async (_request, reply) => page(reply, 'text/html; charset=utf-8', PAGE_HTML));
  app.get(`${UI_PREFIX}/app.js`, hidden, async (_request, reply) => page(reply, 'text/javascript; charset=utf-8', PAGE_JS));
  app.get(`${UI_PREFIX}/app.css`, hidden, async (_request, reply) => page(reply, 'text/css; charset=utf-8', PAGE_CSS));
  // Where the page links to: nothing secret (the Web UI has its own authentication).
  app.get(`${UI_PREFIX}/config.json`, hidden, async (_request, reply) => page(reply, 'application/json; charset=utf-8', config));
};

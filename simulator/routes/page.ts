// Serves the signer page (GET / and GET /phone) and its script.

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { PAGE_HTML, PAGE_SCRIPT } from '../page';

// The page needs nothing but itself and /sim/api; a strict policy backs up the text-node escaping.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const pageRoutes: FastifyPluginAsync = async (app: FastifyInstance) => {
  const page = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-store')
      .send(PAGE_HTML);
  app.get('/', page);
  app.get('/phone', page);
  // Browsers ask for it; a 404 would be noise in the console.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  app.get('/sim/phone.js', async (_request, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-store').send(PAGE_SCRIPT),
  );
};

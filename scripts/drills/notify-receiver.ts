// The business system's side of the notifications in the drills: an HTTP server on loopback that
// answers 200 to every POST and keeps each delivery, its signature checked with the independent
// `standardwebhooks` implementation (as a receiver would), so a drill can count what arrived.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** The drill stack's NOTIFY_SECRET: fixed per harness run, shared with the receiver. */
export const DRILL_NOTIFY_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

export interface Delivery {
  webhookId: string;
  /** The signing the body names (data.id), when the signature held. */
  signingId: string | undefined;
  type: string | undefined;
  verified: boolean;
}

export interface NotifyReceiver {
  url: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

export async function startNotifyReceiver(): Promise<NotifyReceiver> {
  const verifier = new Webhook(DRILL_NOTIFY_SECRET);
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
      let verified = false;
      let payload: { type?: string; data?: { id?: string } } = {};
      try {
        payload = verifier.verify(body, headers) as typeof payload;
        verified = true;
      } catch {
        // kept as unverified: the drill fails on it
      }
      deliveries.push({ webhookId: headers['webhook-id'] ?? '', signingId: payload.data?.id, type: payload.type, verified });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/signings`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Fault injection for the vendor API: the next N calls to an endpoint answer a given HTTP code
// (469 "try again later", 468, 500 …) or hang for a while first, so that client tests can provoke
// the failures Evrotrust produces only under load.

import { EVROTRUST_ENDPOINTS, type EvrotrustEndpoint } from '../src/evrotrust/errors';
import { ControlError } from './errors';

/** The vendor endpoints, relative to `/vendor`: the same list our client knows. */
export const VENDOR_ENDPOINTS = EVROTRUST_ENDPOINTS;
export type VendorEndpoint = EvrotrustEndpoint;

export interface FaultSpec {
  /** Answer this HTTP code instead of doing the call. Without it (only delayMs) the call proceeds after the wait. */
  status?: number;
  /** Wait this long before answering (to provoke client timeouts). */
  delayMs?: number;
  /** How many calls in a row get this fault (default 1). */
  count?: number;
  /** The JSON body of the fault answer (default `{status, message}`). */
  body?: unknown;
}

export interface Fault {
  status?: number;
  delayMs?: number;
  body?: unknown;
}

export function normalizeEndpoint(endpoint: string): VendorEndpoint {
  const path = endpoint.replace(/^\/?vendor(?=\/)/, '').replace(/\/+$/, '');
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  const known = VENDOR_ENDPOINTS.find((e) => e === withSlash);
  if (!known) throw new ControlError('invalid', `unknown vendor endpoint "${endpoint}"; one of ${VENDOR_ENDPOINTS.join(', ')}`);
  return known;
}

export class FaultInjector {
  private readonly queues = new Map<VendorEndpoint, { fault: Fault; remaining: number }[]>();

  /** Queues a fault; several calls queue several faults, served in order. */
  failNext(endpoint: string, spec: FaultSpec): void {
    const key = normalizeEndpoint(endpoint);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new ControlError('invalid', 'count must be a positive integer');
    if (spec.status === undefined && spec.delayMs === undefined) throw new ControlError('invalid', 'give status, delayMs or both');
    if (spec.status !== undefined && (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599)) {
      throw new ControlError('invalid', 'status must be an HTTP status code');
    }
    const queue = this.queues.get(key) ?? [];
    queue.push({ fault: { status: spec.status, delayMs: spec.delayMs, body: spec.body }, remaining: count });
    this.queues.set(key, queue);
  }

  /** The fault for this call, if one is queued (and counts it as used). */
  take(endpoint: VendorEndpoint): Fault | undefined {
    const queue = this.queues.get(endpoint);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }

  clear(): void {
    this.queues.clear();
  }
}

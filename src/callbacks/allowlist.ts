// Who is calling: the socket's peer, or — only when that peer is a trusted proxy — the right-most
// X-Forwarded-For address that is not itself a trusted proxy (the semantics of the `proxy-addr`
// package that Express and Fastify use). Address matching is Node's `net.BlockList`; IPv4-mapped
// IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports for an IPv4 peer) are folded
// to IPv4 on both sides, so an entry `1.2.3.4` matches either form.
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ForbiddenCallerError } from './errors';

export class InvalidAddressEntryError extends Error {
  override readonly name = 'InvalidAddressEntryError';
  constructor(readonly entry: string) {
    super(`not an IPv4/IPv6 address or CIDR range: ${JSON.stringify(entry)}`);
  }
}

const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The canonical form of an IP address, IPv4-mapped IPv6 folded to IPv4; undefined when `raw` is not
 * an address. Accepts the forms found in X-Forwarded-For too: `[v6]`, `[v6]:port`, `v4:port`.
 */
export function foldAddress(raw: string): string | undefined {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(a);
  if (bracketed?.[1]) a = bracketed[1];
  else if (/^[\d.]+:\d{1,5}$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  const zone = a.indexOf('%');
  if (zone > 0 && isIPv6(a)) a = a.slice(0, zone); // a link-local zone says nothing about who it is
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return undefined;
  // The WHATWG URL parser canonicalizes IPv6 (lower case, compressed, mapped IPv4 as two hex groups).
  const canonical = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  const mapped = MAPPED.exec(canonical);
  if (mapped?.[1] && mapped[2]) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return canonical;
}

/** A set of addresses and CIDR ranges, as configured in CALLBACK_ALLOWED_IPS / TRUST_PROXY. */
export class AddressSet {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  constructor(entries: readonly string[]) {
    this.entries = [...entries];
    for (const entry of entries) this.add(entry.trim());
  }

  get size(): number {
    return this.entries.length;
  }

  has(address: string): boolean {
    const folded = foldAddress(address);
    if (folded === undefined) return false;
    return this.list.check(folded, isIPv4(folded) ? 'ipv4' : 'ipv6');
  }

  private add(entry: string): void {
    const [addr, prefixText, ...rest] = entry.split('/');
    if (!addr || rest.length > 0 || isIP(addr) === 0) throw new InvalidAddressEntryError(entry);
    const folded = foldAddress(addr);
    if (folded === undefined) throw new InvalidAddressEntryError(entry);
    const family = isIPv4(folded) ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      this.list.addAddress(folded, family);
      return;
    }
    if (!/^\d{1,3}$/.test(prefixText)) throw new InvalidAddressEntryError(entry);
    let prefix = Number(prefixText);
    // ::ffff:a.b.c.d/n with n ≥ 96 is an IPv4 range written in IPv6; narrower mapped ranges stay IPv6.
    if (family === 'ipv4' && isIPv6(addr)) {
      if (prefix < 96) {
        this.list.addSubnet(addr, prefix, 'ipv6');
        return;
      }
      prefix -= 96;
    }
    if (prefix > (family === 'ipv4' ? 32 : 128)) throw new InvalidAddressEntryError(entry);
    this.list.addSubnet(folded, prefix, family);
  }
}

export interface Caller {
  /** The caller's address; undefined when it cannot be told (a trusted proxy sent a malformed X-Forwarded-For). */
  address: string | undefined;
  /** The socket's peer, folded. */
  peer: string;
  /** True when the address came from X-Forwarded-For. */
  forwarded: boolean;
}

/** Decides the caller from the socket peer and X-Forwarded-For (believed only from `trustProxy`). */
export function resolveCaller(peerRaw: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: AddressSet): Caller {
  const peer = peerRaw === undefined ? undefined : foldAddress(peerRaw);
  if (peer === undefined) return { address: undefined, peer: peerRaw ?? '', forwarded: false };
  if (trustProxy.size === 0 || !trustProxy.has(peer)) return { address: peer, peer, forwarded: false };
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  let address: string = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = foldAddress(hops[i] as string);
    if (hop === undefined) return { address: undefined, peer, forwarded: true };
    address = hop;
    if (!trustProxy.has(hop)) break;
  }
  return { address, peer, forwarded: address !== peer || hops.length > 0 };
}

export interface AllowlistHookOptions {
  allowed: AddressSet;
  trustProxy: AddressSet;
  /** Called for every denied request, before the 403 (log line; the metric counts in the error handler). */
  onDenied?: (request: FastifyRequest, caller: Caller) => void;
}

export const CALLER_DECORATOR = 'evrotrustCaller';

/**
 * An onRequest hook: runs before the body is read, so a denied caller's body is never parsed or
 * stored. Stores the decided Caller on the request (decorator `evrotrustCaller`).
 */
export function allowlistHook(options: AllowlistHookOptions): onRequestAsyncHookHandler {
  return async (request) => {
    const caller = resolveCaller(request.socket.remoteAddress, request.headers['x-forwarded-for'], options.trustProxy);
    request.setDecorator<Caller>(CALLER_DECORATOR, caller);
    if (caller.address === undefined || !options.allowed.has(caller.address)) {
      options.onDenied?.(request, caller);
      throw new ForbiddenCallerError();
    }
  };
}

// How much of the address space a CALLBACK_ALLOWED_IPS / TRUST_PROXY entry covers, so that
// configuration can refuse entries that admit (nearly) everyone. IPv6 is handled as 128-bit
// integers; the IPv4-mapped block ::ffff:0:0/96 is where a dual-stack socket's IPv4 callers live, so
// an IPv6 range that covers it admits every IPv4 caller, and a range inside it is an IPv4 range.
import { isIPv4, isIPv6 } from 'node:net';

/** The widest ranges accepted: the widest private blocks, 10.0.0.0/8 and fc00::/7 (ULA). */
export const MIN_PREFIX = { ipv4: 8, ipv6: 7 } as const;

const MAPPED_BLOCK = 0xffffn << 32n; // ::ffff:0.0.0.0

function ipv4ToBigInt(a: string): bigint {
  return a.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

/** An IPv6 address (any valid textual form, dotted IPv4 tail included) as a 128-bit integer. */
export function ipv6ToBigInt(address: string): bigint {
  let a = address;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const lastColon = a.lastIndexOf(':');
  const last = a.slice(lastColon + 1);
  if (isIPv4(last)) {
    // A dotted IPv4 tail (::ffff:1.2.3.4) is the last two 16-bit groups.
    const v = Number(ipv4ToBigInt(last));
    a = `${a.slice(0, lastColon + 1)}${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const [before = '', after] = a.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(before);
  const rest = after === undefined ? [] : groups(after);
  const all = after === undefined ? head : [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export type RangeVerdict = { ok: true } | { ok: false; reason: 'everything' | 'all-ipv4' | 'too-wide' };

/**
 * Whether `address/prefix` (already known to be a valid address and prefix) may be configured:
 * not 0.0.0.0/0 or ::/0, not an IPv6 range covering ::ffff:0:0/96, and no wider than MIN_PREFIX
 * (an IPv4-mapped range ::ffff:a.b.c.d/n counts as the IPv4 range a.b.c.d/(n-96)).
 */
export function checkRange(address: string, prefix: number): RangeVerdict {
  if (isIPv4(address)) {
    if (prefix === 0) return { ok: false, reason: 'everything' };
    return prefix < MIN_PREFIX.ipv4 ? { ok: false, reason: 'too-wide' } : { ok: true };
  }
  if (!isIPv6(address)) return { ok: true }; // not ours to judge; the syntax check refuses it
  if (prefix === 0) return { ok: false, reason: 'everything' };
  const value = ipv6ToBigInt(address);
  const shift = BigInt(128 - prefix);
  if (prefix <= 96) {
    // Covers the mapped block when its first `prefix` bits equal those of ::ffff:0.0.0.0.
    if (value >> shift === MAPPED_BLOCK >> shift) return { ok: false, reason: 'all-ipv4' };
    return prefix < MIN_PREFIX.ipv6 ? { ok: false, reason: 'too-wide' } : { ok: true };
  }
  // Longer than /96: inside the mapped block it is an IPv4 range of prefix - 96 bits.
  if (value >> 32n === MAPPED_BLOCK >> 32n && prefix - 96 < MIN_PREFIX.ipv4) return { ok: false, reason: 'too-wide' };
  return { ok: true };
}

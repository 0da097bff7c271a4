// The simulator's idea of Evrotrust users: which identifiers are well formed, and the profile of
// each one. Every well-formed user is registered and ready to sign unless a test says otherwise
// through setUser, so a laptop demo works with any valid ЕГН, phone or e-mail.

import type { SignerIdentity } from '../src/lib/signer';
import { VendorError } from './errors';

export interface UserFlags {
  isRegistered: boolean;
  isIdentified: boolean;
  isRejected: boolean;
  isSupervised: boolean;
  isReadyToSign: boolean;
  hasConfirmedPhone: boolean;
  hasConfirmedEmail: boolean;
  /** Not part of /user/check/extended: a user without one cannot be sent documents (442). */
  hasCertificate: boolean;
}

export const DEFAULT_USER_FLAGS: Readonly<UserFlags> = {
  isRegistered: true,
  isIdentified: true,
  isRejected: false,
  isSupervised: false,
  isReadyToSign: true,
  hasConfirmedPhone: true,
  hasConfirmedEmail: true,
  hasCertificate: true,
};

const EGN_WEIGHTS = [2, 4, 8, 5, 10, 9, 7, 3, 6] as const;

/** A Bulgarian personal number (ЕГН): 10 digits, a real birth date, and the checksum digit. */
export function isValidEgn(egn: string): boolean {
  if (!/^\d{10}$/.test(egn)) return false;
  const digits = [...egn].map(Number);
  const yy = Number(egn.slice(0, 2));
  let mm = Number(egn.slice(2, 4));
  const dd = Number(egn.slice(4, 6));
  let year = 1900 + yy;
  // The month carries the century: +20 for 1800s, +40 for 2000s.
  if (mm > 40) {
    mm -= 40;
    year = 2000 + yy;
  } else if (mm > 20) {
    mm -= 20;
    year = 1800 + yy;
  }
  if (mm < 1 || mm > 12) return false;
  const daysInMonth = new Date(Date.UTC(year, mm, 0)).getUTCDate();
  if (dd < 1 || dd > daysInMonth) return false;
  const sum = EGN_WEIGHTS.reduce((acc, w, i) => acc + w * (digits[i] ?? 0), 0);
  const check = sum % 11 === 10 ? 0 : sum % 11;
  return check === digits[9];
}

export function normalizePhone(phone: string): string {
  return phone.replace(/[\s\-()]/g, '');
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The key a user is known by (setUser, the signer page): ЕГН as is, phone without separators, e-mail lowercased. */
export function normalizeIdentifier(identifier: string): string {
  // An ЕГН has no spaces or dashes, so stripping them is safe for every kind.
  const trimmed = identifier.trim();
  return trimmed.includes('@') ? normalizeEmail(trimmed) : normalizePhone(trimmed);
}

function isValidPhone(phone: string): boolean {
  return /^\+?\d{7,15}$/.test(normalizePhone(phone));
}

function isValidEmail(email: string): boolean {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim()) && email.length <= 254;
}

/**
 * Checks that a signer is named well enough for Evrotrust to find: at least one identifier, each
 * given one well formed (ЕГН checksum for Bulgaria, a generic personal number elsewhere). 449 otherwise.
 */
export function validateIdentity(identity: SignerIdentity): void {
  const { identificationNumber, country, phone, email } = identity;
  if (identificationNumber === undefined && phone === undefined && email === undefined) {
    throw new VendorError(449, 'User data not valid: give identificationNumber, phone or email');
  }
  if (identificationNumber !== undefined) {
    const bulgarian = country === undefined || country.toUpperCase() === 'BG';
    const ok = bulgarian ? isValidEgn(identificationNumber) : /^[A-Za-z0-9]{4,20}$/.test(identificationNumber);
    if (!ok) throw new VendorError(449, 'User data not valid: identificationNumber');
  }
  if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) throw new VendorError(449, 'User data not valid: country');
  if (phone !== undefined && !isValidPhone(phone)) throw new VendorError(449, 'User data not valid: phone');
  if (email !== undefined && !isValidEmail(email)) throw new VendorError(449, 'User data not valid: email');
}

/** Profiles set by tests, keyed by normalized identifier; everyone else gets the defaults. */
export class UserDirectory {
  private readonly overrides = new Map<string, UserFlags>();

  constructor(
    initial?: Record<string, UserFlags>,
    private readonly onChange?: () => void,
  ) {
    for (const [key, flags] of Object.entries(initial ?? {})) this.overrides.set(key, flags);
  }

  set(identifier: string, flags: Partial<UserFlags>): UserFlags {
    const key = normalizeIdentifier(identifier);
    const merged = { ...(this.overrides.get(key) ?? DEFAULT_USER_FLAGS), ...flags };
    this.overrides.set(key, merged);
    this.onChange?.();
    return merged;
  }

  /** The profile of a signer: the first identifier with an override wins (ЕГН, then phone, then e-mail). */
  flagsFor(identity: SignerIdentity): UserFlags {
    const keys = [identity.identificationNumber, identity.phone, identity.email]
      .filter((v): v is string => v !== undefined)
      .map(normalizeIdentifier);
    for (const key of keys) {
      const found = this.overrides.get(key);
      if (found) return found;
    }
    return { ...DEFAULT_USER_FLAGS };
  }

  /**
   * The checks Evrotrust makes before it accepts a document for a signer:
   * malformed → 449, unknown → 438, not able to sign (no certificate, not ready, rejected) → 442.
   */
  assertCanSign(identity: SignerIdentity): void {
    validateIdentity(identity);
    const flags = this.flagsFor(identity);
    if (!flags.isRegistered) throw new VendorError(438);
    if (!flags.hasCertificate || !flags.isReadyToSign || flags.isRejected) throw new VendorError(442);
  }

  snapshot(): Record<string, UserFlags> {
    return Object.fromEntries(this.overrides);
  }
}

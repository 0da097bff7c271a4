// The identifiers of a person who signs, or whom Evrotrust is asked about: at least one of
// identificationNumber (ЕГН/ЛНЧ), phone, email; `country` (ISO 3166 alpha-2) qualifies
// identificationNumber only. One shape for the business API's input, the stored signing, the
// Evrotrust client and the simulator; each layer adds its own value rules by extending the schema
// (the business API checks formats, the client only non-emptiness, Evrotrust itself decides).
import { z } from 'zod';

export const signerIdentitySchema = z.object({
  identificationNumber: z.string().optional(),
  country: z.string().optional(),
  phone: z.string().optional(),
  email: z.string().optional(),
});

export type SignerIdentity = z.infer<typeof signerIdentitySchema>;

/** Whether a person is named at all: by identificationNumber, phone or email (`country` alone names no one). */
export function hasIdentifier(s: SignerIdentity): boolean {
  return s.identificationNumber !== undefined || s.phone !== undefined || s.email !== undefined;
}

import { randomInt } from 'node:crypto';

/**
 * Crockford's base32: digits and letters without I, L, O and U, so that nothing read aloud or
 * typed from a screen is mistaken for something else.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 12 characters, 60 bits: typeable; a short life, single use and a rate limit keep it safe. */
export const PAIRING_CODE_CHARS = 12;
/** 28 characters, 140 bits: kept by the user, it never expires, so it must not be guessable. */
export const RECOVERY_CODE_CHARS = 28;

/** `count` characters from the CSPRNG, shown in groups of four: `7KQ2-MXW9-DA4T`. */
function newCode(count: number): string {
  const chars = Array.from({ length: count }, () => ALPHABET[randomInt(ALPHABET.length)]);
  return chars.join('').replace(/(.{4})(?=.)/g, '$1-');
}

export const newPairingCode = () => newCode(PAIRING_CODE_CHARS);
export const newRecoveryCode = () => newCode(RECOVERY_CODE_CHARS);

/**
 * A typed code as it was issued: any case, spaces and dashes ignored, and the look-alikes read
 * the way Crockford's alphabet reads them (O as 0, I and L as 1). Null when it cannot be one.
 */
export function normalizeCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{1,64}$/.test(code) ? code : null;
}

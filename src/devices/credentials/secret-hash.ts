import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * What the database keeps of a secret (a code, a refresh token): its SHA-256. The secrets are
 * random (and a pairing code lives ten minutes), so no slow hash is needed; the database finds a
 * secret by this hash, never by the secret.
 */
export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** Two hashes compared in constant time (the in-memory comparisons of a presented secret). */
export const sameHash = (a: Buffer | null | undefined, b: Buffer): boolean =>
  !!a && a.length === b.length && timingSafeEqual(a, b);

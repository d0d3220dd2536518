import { randomBytes } from 'node:crypto';
import { UnauthorizedException } from '@nestjs/common';
import { hashSecret } from './secret-hash';

/** A new refresh token: 256 random bits, base64url (43 characters), and its hash. */
export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashSecret(token) };
}

/**
 * The one answer for a refresh token that is unknown, replaced, idle for too long, or of a
 * revoked device: nothing tells which.
 */
export const sessionRefused = () =>
  new UnauthorizedException('This device was signed out: pair it again to keep syncing');

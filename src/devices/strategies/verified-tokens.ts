import { Injectable } from '@nestjs/common';
import { AuthenticatedDevice } from './types/authenticated-device.type';

/** Enough for every phone of a busy instance; an entry is a token (~200 characters) and an id. */
export const VERIFIED_TOKENS_MAX = 10_000;

/**
 * Tokens whose signature was verified, with the device each names, until they expire. A phone
 * sends the same token with every request, and checking its signature again (passport-jwt and
 * jsonwebtoken) cost 5-10% of the server's CPU per sync cycle. A token is only remembered after
 * passing that check, so a forged one can never be served from here; revocation is unaffected,
 * since it is checked in the database on every request whatever the token.
 */
@Injectable()
export class VerifiedTokens {
  /** In insertion order: the oldest entry goes first when full. */
  private readonly entries = new Map<string, { device: AuthenticatedDevice; exp: number }>();

  get size(): number {
    return this.entries.size;
  }

  /** The device of a token verified before and not expired since (jsonwebtoken's rule). */
  get(token: string, nowMs = Date.now()): AuthenticatedDevice | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (Math.floor(nowMs / 1000) >= entry.exp) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.device;
  }

  /** After a successful verification. A token without `exp` is not remembered. */
  remember(token: string, device: AuthenticatedDevice, exp: number | undefined): void {
    if (exp === undefined || this.entries.has(token)) return;
    if (this.entries.size >= VERIFIED_TOKENS_MAX) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(token, { device, exp });
  }
}

import { hashSecret as hashCode } from './secret-hash';
import {
  newPairingCode,
  newRecoveryCode,
  normalizeCode,
  PAIRING_CODE_CHARS,
  RECOVERY_CODE_CHARS,
} from './account-codes';

describe('account codes', () => {
  it('makes pairing codes of 12 characters (60 bits) and recovery codes of 28 (140 bits)', () => {
    const pairing = newPairingCode();
    const recovery = newRecoveryCode();
    expect(pairing).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}$/);
    expect(recovery).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$/);
    expect(normalizeCode(pairing)).toHaveLength(PAIRING_CODE_CHARS);
    expect(normalizeCode(recovery)).toHaveLength(RECOVERY_CODE_CHARS);
    expect(RECOVERY_CODE_CHARS * 5).toBeGreaterThanOrEqual(128);
  });

  it('never repeats itself (CSPRNG)', () => {
    const codes = new Set(Array.from({ length: 1000 }, () => newPairingCode()));
    expect(codes.size).toBe(1000);
  });

  it('reads a code typed in any case, with spaces or dashes, and look-alikes', () => {
    expect(normalizeCode('7kq2 mxw9 da4t')).toBe('7KQ2MXW9DA4T');
    expect(normalizeCode(' 7KQ2-MXW9-DA4T ')).toBe('7KQ2MXW9DA4T');
    expect(normalizeCode('O0-Il-1')).toBe('00111');
  });

  it('refuses what cannot be a code', () => {
    expect(normalizeCode('')).toBeNull();
    expect(normalizeCode('7KQ2*MXW9DA4T')).toBeNull();
    expect(normalizeCode('ÄBC')).toBeNull();
    expect(normalizeCode('U')).toBeNull();
  });

  it('keeps only a SHA-256 of the normalised code', () => {
    expect(hashCode('7KQ2MXW9DA4T')).toHaveLength(32);
    expect(hashCode(normalizeCode('7kq2-mxw9-da4t')!)).toEqual(hashCode('7KQ2MXW9DA4T'));
  });
});

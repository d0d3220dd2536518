import { VERIFIED_TOKENS_MAX, VerifiedTokens } from './verified-tokens';

describe('VerifiedTokens', () => {
  const device = { id: 'd1' };
  const exp = 1_000; // seconds

  it('serves a remembered token until the second it expires, then forgets it', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('t1', device, exp);
    expect(tokens.get('t1', exp * 1000 - 1)).toBe(device);
    expect(tokens.get('t1', exp * 1000)).toBeUndefined();
    // Gone, not only hidden: a clock that went back does not bring it back.
    expect(tokens.get('t1', 0)).toBeUndefined();
  });

  it('never serves a token it was not given, or one without exp', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('t1', device, undefined);
    expect(tokens.get('t1', 0)).toBeUndefined();
    expect(tokens.get('t2', 0)).toBeUndefined();
  });

  it(`keeps at most ${VERIFIED_TOKENS_MAX} tokens, dropping the oldest first`, () => {
    const tokens = new VerifiedTokens();
    for (let i = 0; i <= VERIFIED_TOKENS_MAX; i++) tokens.remember(`t${i}`, { id: `d${i}` }, exp);
    expect(tokens.get('t0', 0)).toBeUndefined();
    expect(tokens.get('t1', 0)).toEqual({ id: 'd1' });
    expect(tokens.get(`t${VERIFIED_TOKENS_MAX}`, 0)).toEqual({ id: `d${VERIFIED_TOKENS_MAX}` });
    expect(tokens.size).toBe(VERIFIED_TOKENS_MAX);
  });
});

import { createHmac } from 'node:crypto';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** Hand-made JWTs, so the tests can forge what a real library would refuse to produce. */
export function forgeJwt(
  payload: Record<string, unknown>,
  { secret = '', alg = 'HS256' }: { secret?: string; alg?: string } = {},
): string {
  const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  if (alg === 'none') return `${unsigned}.`;
  const signature = createHmac(HMAC[alg], secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

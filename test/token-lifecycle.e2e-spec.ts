import { forgeJwt, nowSeconds } from './utils/jwt';
import { changes, game } from './utils/sync-records';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

describe('Token lifecycle (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  const me = (token: string) =>
    t.http().get('/api/v1/devices/me').set('Authorization', `Bearer ${token}`);

  it('refresh returns a new token for the same device; the old one keeps working', async () => {
    const device = await registerDevice(t);
    // A different iat makes a different token; tokens minted in the same second would be equal.
    const old = forgeJwt(
      { sub: device.deviceId, iat: nowSeconds() - 10, exp: nowSeconds() + 600 },
      { secret: process.env.JWT_SECRET },
    );
    const refreshed = await t
      .http()
      .post('/api/v1/devices/token/refresh')
      .set('Authorization', `Bearer ${old}`);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual({
      device_id: device.deviceId,
      account_id: device.accountId,
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.any(String),
    });
    expect(refreshed.body.access_token).not.toBe(old);
    expect((await me(refreshed.body.access_token)).body.device_id).toBe(device.deviceId);
    await me(old).expect(200);
  });

  it('revoke answers 204 and every token of the device answers 401 at once', async () => {
    const device = await registerDevice(t);
    const second = (
      await t.http().post('/api/v1/devices/token/refresh').set(device.auth).expect(200)
    ).body.access_token;
    await t.http().post('/api/v1/devices/revoke').set(device.auth).expect(204);
    for (const token of [device.token, second]) {
      await me(token).expect(401);
      await t.http().get('/api/v1/sync/pull').set('Authorization', `Bearer ${token}`).expect(401);
      await t
        .http()
        .post('/api/v1/sync/push')
        .set('Authorization', `Bearer ${token}`)
        .send({ changes: changes({ games: { created: [game()] } }), last_pulled_at: 1 })
        .expect(401);
      await t
        .http()
        .post('/api/v1/devices/token/refresh')
        .set('Authorization', `Bearer ${token}`)
        .expect(401);
    }
    const [row] = await t.dataSource.query('SELECT revoked_at FROM devices WHERE id = $1', [
      device.deviceId,
    ]);
    expect(row.revoked_at).toBeInstanceOf(Date);
  });

  it('refuses to refresh with an expired, forged or HS512 token', async () => {
    const device = await registerDevice(t);
    const refresh = (token: string) =>
      t.http().post('/api/v1/devices/token/refresh').set('Authorization', `Bearer ${token}`);
    const claims = { sub: device.deviceId, iat: nowSeconds(), exp: nowSeconds() + 600 };
    await refresh(
      forgeJwt({ ...claims, exp: nowSeconds() - 1 }, { secret: process.env.JWT_SECRET }),
    ).expect(401);
    await refresh(
      forgeJwt(claims, { secret: 'another-key-that-is-long-enough-0123456789' }),
    ).expect(401);
    await refresh(forgeJwt(claims, { secret: process.env.JWT_SECRET, alg: 'HS512' })).expect(401);
    await refresh(forgeJwt(claims, { alg: 'none' })).expect(401);
  });

  // A token accepted once must not keep a door open: not once expired, not under another
  // signature (a per-token cache would be the way to break these).
  describe('after a token was accepted once', () => {
    const pull = (token: string) =>
      t.http().get('/api/v1/sync/pull').set('Authorization', `Bearer ${token}`);

    it('refuses it once it has expired, on every route', async () => {
      const device = await registerDevice(t);
      const exp = nowSeconds() + 2;
      const token = forgeJwt(
        { sub: device.deviceId, iat: nowSeconds(), exp },
        { secret: process.env.JWT_SECRET },
      );
      await pull(token).expect(200);
      await me(token).expect(200);
      while (nowSeconds() < exp) await new Promise((resolve) => setTimeout(resolve, 100));
      await pull(token).expect(401);
      await me(token).expect(401);
    });

    it('refuses the same claims under another signature', async () => {
      const device = await registerDevice(t);
      const claims = { sub: device.deviceId, iat: nowSeconds(), exp: nowSeconds() + 600 };
      const token = forgeJwt(claims, { secret: process.env.JWT_SECRET });
      await pull(token).expect(200);
      const [header, payload] = token.split('.');
      const forged = forgeJwt(claims, { secret: 'another-key-that-is-long-enough-0123456789' });
      expect(forged.startsWith(`${header}.${payload}.`)).toBe(true);
      await pull(forged).expect(401);
      await me(forged).expect(401);
      await pull(`${header}.${payload}.`).expect(401);
    });
  });
});

import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { forgeJwt, nowSeconds } from './utils/jwt';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { createTestApp, pairDevice, registerDevice, TestApp } from './utils/test-app';

const SIGNED_OUT = 'This device was signed out: pair it again to keep syncing';

type Tokens = {
  device_id: string;
  account_id: string;
  access_token: string;
  refresh_token: string;
};

describe('Device sessions: refresh tokens with rotation and theft detection (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    // Listening once, for the requests sent concurrently below.
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  const register = async (body: Record<string, unknown> = {}) =>
    (await t.http().post('/api/v1/devices/register').send(body).expect(201)).body as Tokens;
  const exchange = (refreshToken: unknown) =>
    t.http().post('/api/v1/devices/token').send({ refresh_token: refreshToken });
  const refreshed = async (refreshToken: string) =>
    (await exchange(refreshToken).expect(200)).body as Tokens;
  const me = (accessToken: string) =>
    t.http().get('/api/v1/devices/me').set('Authorization', `Bearer ${accessToken}`);
  const revokedAt = async (deviceId: string) =>
    (
      await t.dataSource.query<Array<{ revoked_at: Date | null }>>(
        'SELECT revoked_at FROM devices WHERE id = $1',
        [deviceId],
      )
    )[0].revoked_at;
  const sha256 = (text: string) => createHash('sha256').update(text).digest();

  it('every registration answers a refresh token of 256 bits, stored only as its hash', async () => {
    const plain = await register();
    const phone = await registerDevice(t);
    const code = (await t.http().post('/api/v1/devices/pairing-codes').set(phone.auth)).body.code;
    const paired = await register({ pairing_code: code });
    const recovery = (await t.http().post('/api/v1/account/recovery-code').set(phone.auth)).body
      .recovery_code;
    const restored = await register({ recovery_code: recovery });
    for (const tokens of [plain, paired, restored]) {
      expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const rows = await t.dataSource.query<Array<{ token_hash: Buffer }>>(
        'SELECT token_hash FROM refresh_tokens WHERE device_id = $1',
        [tokens.device_id],
      );
      expect(rows.map((row) => row.token_hash)).toEqual([sha256(tokens.refresh_token)]);
    }
    expect(paired.account_id).toBe(phone.accountId);
    expect(restored.account_id).toBe(phone.accountId);
  });

  it('exchanges a refresh token for new tokens of the same device, account, data and clock', async () => {
    const first = await register({ name: 'phone' });
    const before = (await me(first.access_token).expect(200)).body;
    const g = game();
    const device = { ...first, deviceId: first.device_id, accountId: first.account_id };
    const api = (token: string) =>
      syncApi(t, { ...device, token, auth: { Authorization: `Bearer ${token}` } });
    await api(first.access_token).pushOk({ games: { created: [g] } });
    const { timestamp } = await api(first.access_token).pullOk();

    const second = await refreshed(first.refresh_token);
    expect(second).toEqual({
      device_id: first.device_id,
      account_id: first.account_id,
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token).expect(200)).body).toEqual(
      expect.objectContaining({ device_id: before.device_id, account_id: before.account_id }),
    );
    // Same clock: the timestamp pulled before is still current for the new token.
    const next = await api(second.access_token).pullOk(timestamp);
    expect(next.timestamp).toBe(timestamp);
    expect((await api(second.access_token).pullOk()).changes.games.updated).toEqual([g]);
  });

  it('accepts the replaced token again while its replacement was never presented (a lost answer)', async () => {
    const first = await register();
    const lost = await refreshed(first.refresh_token); // the phone never got this answer
    const retried = await refreshed(first.refresh_token);
    expect(retried.refresh_token).not.toBe(lost.refresh_token);
    // Again, as long as the phone keeps losing the answers.
    const retriedAgain = await refreshed(first.refresh_token);
    await me(retriedAgain.access_token).expect(200);
    // Once the new one is used, the way forward is the new one only.
    const third = await refreshed(retriedAgain.refresh_token);
    await me(third.access_token).expect(200);
    expect(await revokedAt(first.device_id)).toBeNull();
  });

  it('revokes the device when a replaced token is presented again (a copy), keeping the data', async () => {
    const first = await register();
    const paired = await pairDevice(t, {
      deviceId: first.device_id,
      accountId: first.account_id,
      token: first.access_token,
      auth: { Authorization: `Bearer ${first.access_token}` },
    });
    const g = game();
    await syncApi(t, paired).pushOk({ games: { created: [g] } });
    const second = await refreshed(first.refresh_token);
    const third = await refreshed(second.refresh_token);

    const stolen = await exchange(first.refresh_token).expect(401);
    expect(stolen.body).toEqual({ statusCode: 401, message: SIGNED_OUT, error: 'Unauthorized' });
    expect(await revokedAt(first.device_id)).toBeInstanceOf(Date);
    // Every token of the device: 401.
    await exchange(third.refresh_token).expect(401);
    await me(third.access_token).expect(401);
    await me(first.access_token).expect(401);
    // The account keeps its data and its other device.
    expect((await syncApi(t, paired).pullOk()).changes.games.updated).toEqual([g]);
  });

  it('refuses unknown tokens with the same 401, revoking nothing', async () => {
    const first = await register();
    for (const token of ['x', first.refresh_token.slice(0, -1) + 'A', 'A'.repeat(43), ' ']) {
      if (token === first.refresh_token) continue;
      const response = await exchange(token).expect(401);
      expect(response.body.message).toBe(SIGNED_OUT);
    }
    expect(await revokedAt(first.device_id)).toBeNull();
    await refreshed(first.refresh_token);
  });

  it('refuses the refresh token of a revoked device', async () => {
    const first = await register();
    await t
      .http()
      .delete(`/api/v1/account/devices/${first.device_id}`)
      .set('Authorization', `Bearer ${first.access_token}`)
      .expect(204);
    expect((await exchange(first.refresh_token).expect(401)).body.message).toBe(SIGNED_OUT);
  });

  it('refuses a refresh token left unused for SESSION_IDLE_DAYS, and only that', async () => {
    const idle = await register();
    const used = await register();
    await t.dataSource.query(
      `UPDATE refresh_tokens SET created_at = now() - interval '365 days 1 hour' WHERE device_id = $1`,
      [idle.device_id],
    );
    await t.dataSource.query(
      `UPDATE refresh_tokens SET created_at = now() - interval '364 days' WHERE device_id = $1`,
      [used.device_id],
    );
    await exchange(idle.refresh_token).expect(401);
    expect(await revokedAt(idle.device_id)).toBeNull();
    await refreshed(used.refresh_token);
  });

  it('answers 400 to a malformed body, changing nothing', async () => {
    const first = await register();
    for (const body of [
      {},
      { refresh_token: 42 },
      { refresh_token: '' },
      { refresh_token: 'a'.repeat(257) },
      [],
    ]) {
      await t.http().post('/api/v1/devices/token').send(body).expect(400);
    }
    await refreshed(first.refresh_token);
  });

  it('serialises racing refreshes of one device: only the token answered last stays valid', async () => {
    const first = await register();
    // Hold the device row, send two refreshes with the same token, let them go one by one.
    const blocker = new Client({ connectionString: process.env.DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM devices WHERE id = $1 FOR UPDATE', [first.device_id]);
      const racing = [1, 2].map(() => exchange(first.refresh_token).then((response) => response));
      for (const deadline = Date.now() + 20_000; ;) {
        const { rows } = await blocker.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0].n >= 2) break;
        if (Date.now() > deadline) throw new Error('the refreshes never waited for the device row');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await blocker.query('COMMIT');
      const answers = await Promise.all(racing);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      const current = await t.dataSource.query<Array<{ token_hash: Buffer }>>(
        'SELECT token_hash FROM refresh_tokens WHERE device_id = $1 AND replaced_at IS NULL',
        [first.device_id],
      );
      // One current token: one of the two answered, not both.
      expect(current).toHaveLength(1);
      const winners = answers.filter((answer) =>
        sha256(answer.body.refresh_token as string).equals(current[0].token_hash),
      );
      expect(winners).toHaveLength(1);
      await refreshed(winners[0].body.refresh_token as string);
    } finally {
      await blocker.end();
    }
  });

  it('keeps the bearer refresh of installed apps, which now answers a refresh token too', async () => {
    const first = await register();
    // A token issued before this change, with the old 30-day lifetime.
    const old = forgeJwt(
      { sub: first.device_id, iat: nowSeconds() - 86_400, exp: nowSeconds() + 29 * 86_400 },
      { secret: process.env.JWT_SECRET },
    );
    await me(old).expect(200);
    const response = await t
      .http()
      .post('/api/v1/devices/token/refresh')
      .set('Authorization', `Bearer ${old}`)
      .expect(200);
    expect(response.body).toEqual({
      device_id: first.device_id,
      account_id: first.account_id,
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    await refreshed(response.body.refresh_token as string);
    // The registration's token was replaced by the bearer refresh: presented now, it is a copy.
    await exchange(first.refresh_token).expect(401);
    expect(await revokedAt(first.device_id)).toBeInstanceOf(Date);
  });
});

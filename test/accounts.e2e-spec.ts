import { randomUUID } from 'node:crypto';
import { game, player } from './utils/sync-records';
import { syncApi } from './utils/sync-api';
import {
  createTestApp,
  pairDevice,
  registerDevice,
  RegisteredDevice,
  TestApp,
} from './utils/test-app';

const CODE_REFUSED = 'This code is not valid: ask the other device for a new one';

describe('Accounts: pairing, restore and device management (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  const me = (device: RegisteredDevice) => t.http().get('/api/v1/devices/me').set(device.auth);
  const pairingCode = async (device: RegisteredDevice) =>
    (await t.http().post('/api/v1/devices/pairing-codes').set(device.auth).expect(201)).body as {
      code: string;
      expires_at: number;
    };
  const recoveryCode = async (device: RegisteredDevice) =>
    (
      (await t.http().post('/api/v1/account/recovery-code').set(device.auth).expect(201)).body as {
        recovery_code: string;
      }
    ).recovery_code;
  const register = (body: Record<string, unknown>) =>
    t.http().post('/api/v1/devices/register').send(body);
  const listDevices = async (device: RegisteredDevice) =>
    (await t.http().get('/api/v1/account/devices').set(device.auth).expect(200)).body as Array<{
      device_id: string;
      current: boolean;
    }>;

  it('a plain registration makes an account of its own, shown by /devices/me', async () => {
    const a = await registerDevice(t);
    const b = await registerDevice(t);
    expect(a.accountId).not.toBe(b.accountId);
    expect((await me(a).expect(200)).body).toMatchObject({
      device_id: a.deviceId,
      account_id: a.accountId,
    });
  });

  describe('pairing', () => {
    it('lets a second device into the account: it pulls the data, and both sync both ways', async () => {
      const phone = await registerDevice(t, 'phone');
      const g = game();
      await syncApi(t, phone).pushOk({ games: { created: [g] } });

      const { code, expires_at } = await pairingCode(phone);
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      expect(expires_at).toBeGreaterThan(Date.now() + 9 * 60_000);
      expect(expires_at).toBeLessThanOrEqual(Date.now() + 10 * 60_000);
      // Typed by hand: any case, spaces instead of dashes.
      const tablet = await registerDevice(t, 'tablet', {
        pairing_code: ` ${code.toLowerCase().replace(/-/g, ' ')} `,
      });
      expect(tablet.accountId).toBe(phone.accountId);
      expect(tablet.deviceId).not.toBe(phone.deviceId);

      // Its first pull returns the account's data.
      const first = await syncApi(t, tablet).pullOk();
      expect(first.changes.games.updated.map((r) => r.id)).toEqual([g.id]);

      // The tablet pushes; the phone pulls it with its own last timestamp.
      const { timestamp } = await syncApi(t, phone).pullOk();
      const p = player(g.id);
      await syncApi(t, tablet).pushOk({ game_players: { created: [p] } });
      const next = await syncApi(t, phone).pullOk(timestamp);
      expect(next.changes.game_players.updated.map((r) => r.id)).toEqual([p.id]);
      expect(next.timestamp).toBeGreaterThan(timestamp);
      // One clock per account: both devices are handed the same timestamp.
      expect((await syncApi(t, tablet).pullOk()).timestamp).toBe(next.timestamp);
    });

    it('works once', async () => {
      const phone = await registerDevice(t);
      const { code } = await pairingCode(phone);
      await registerDevice(t, 'first', { pairing_code: code });
      const again = await register({ pairing_code: code }).expect(403);
      expect(again.body).toEqual({ statusCode: 403, message: CODE_REFUSED, error: 'Forbidden' });
    });

    it('expires after 10 minutes', async () => {
      const phone = await registerDevice(t);
      const { code } = await pairingCode(phone);
      await t.dataSource.query(
        `UPDATE pairing_codes SET expires_at = now() - interval '1 second' WHERE account_id = $1`,
        [phone.accountId],
      );
      expect((await register({ pairing_code: code }).expect(403)).body.message).toBe(CODE_REFUSED);
    });

    it('answers one 403 for any code that is not valid, and creates nothing', async () => {
      const before = await t.dataSource.query('SELECT count(*)::int AS n FROM devices');
      for (const pairing_code of ['', 'ABCD-EFGH-JKMN', '*', 'ü', '0'.repeat(64)]) {
        const response = await register({ pairing_code }).expect(403);
        expect(response.body.message).toBe(CODE_REFUSED);
      }
      for (const recovery_code of ['', 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345']) {
        expect((await register({ recovery_code }).expect(403)).body.message).toBe(CODE_REFUSED);
      }
      expect(await t.dataSource.query('SELECT count(*)::int AS n FROM devices')).toEqual(before);
    });

    it('refuses malformed bodies with 400', async () => {
      const phone = await registerDevice(t);
      const { code } = await pairingCode(phone);
      const recovery = await recoveryCode(phone);
      await register({ pairing_code: 12345678 }).expect(400);
      await register({ recovery_code: ['x'] }).expect(400);
      await register({ pairing_code: 'A'.repeat(65) }).expect(400);
      const both = await register({ pairing_code: code, recovery_code: recovery }).expect(400);
      expect(both.body.message).toContain(
        'recovery_code: give pairing_code or recovery_code, not both',
      );
      // Nothing was used up by the refusals.
      await registerDevice(t, 'after', { pairing_code: code });
    });

    it('keeps only a hash of each code', async () => {
      const phone = await registerDevice(t);
      const { code } = await pairingCode(phone);
      const recovery = await recoveryCode(phone);
      const rows = await t.dataSource.query<Array<{ hex: string }>>(
        `SELECT encode(code_hash, 'hex') AS hex FROM pairing_codes WHERE account_id = $1
         UNION ALL SELECT encode(recovery_code_hash, 'hex') FROM accounts WHERE id = $1`,
        [phone.accountId],
      );
      expect(rows).toHaveLength(2);
      for (const { hex } of rows) {
        expect(hex).toMatch(/^[0-9a-f]{64}$/);
        for (const secret of [code, recovery]) {
          expect(hex).not.toContain(Buffer.from(secret.replace(/-/g, '')).toString('hex'));
        }
      }
    });
  });

  describe('restore with a recovery code', () => {
    it('brings the account to a new phone; asking again replaces the code', async () => {
      const lost = await registerDevice(t, 'lost phone');
      const g = game();
      await syncApi(t, lost).pushOk({ games: { created: [g] } });
      const first = await recoveryCode(lost);
      expect(first.replace(/-/g, '').length * 5).toBeGreaterThanOrEqual(128);

      const restored = await registerDevice(t, 'new phone', { recovery_code: first });
      expect(restored.accountId).toBe(lost.accountId);
      const pulled = await syncApi(t, restored).pullOk();
      expect(pulled.changes.games.updated.map((r) => r.id)).toEqual([g.id]);
      // It does not expire and is not used up by a restore.
      await registerDevice(t, 'another new phone', { recovery_code: first.toLowerCase() });

      const second = await recoveryCode(restored);
      expect(second).not.toBe(first);
      expect((await register({ recovery_code: first }).expect(403)).body.message).toBe(
        CODE_REFUSED,
      );
      expect((await registerDevice(t, 'third', { recovery_code: second })).accountId).toBe(
        lost.accountId,
      );
    });
  });

  describe('device management', () => {
    it('lists the live devices of the account, marking the caller', async () => {
      const phone = await registerDevice(t, 'phone');
      const tablet = await pairDevice(t, phone, 'tablet');
      await registerDevice(t, 'stranger');
      const listed = await listDevices(tablet);
      expect(listed).toEqual([
        {
          device_id: phone.deviceId,
          name: 'phone',
          platform: 'test',
          created_at: expect.stringMatching(/^\d{4}-/),
          last_seen_at: expect.stringMatching(/^\d{4}-/),
          current: false,
        },
        {
          device_id: tablet.deviceId,
          name: 'tablet',
          platform: 'test',
          created_at: expect.stringMatching(/^\d{4}-/),
          last_seen_at: expect.stringMatching(/^\d{4}-/),
          current: true,
        },
      ]);
    });

    it('revokes another device: 401 everywhere for it, the data stays with the account', async () => {
      const phone = await registerDevice(t, 'phone');
      const lost = await pairDevice(t, phone, 'lost tablet');
      const g = game();
      await syncApi(t, lost).pushOk({ games: { created: [g] } });

      await t.http().delete(`/api/v1/account/devices/${lost.deviceId}`).set(phone.auth).expect(204);
      await me(lost).expect(401);
      await syncApi(t, lost).pull().expect(401);
      await t.http().get('/api/v1/account/devices').set(lost.auth).expect(401);
      await t.http().post('/api/v1/devices/pairing-codes').set(lost.auth).expect(401);
      expect((await listDevices(phone)).map((d) => d.device_id)).toEqual([phone.deviceId]);
      const pulled = await syncApi(t, phone).pullOk();
      expect(pulled.changes.games.updated.map((r) => r.id)).toEqual([g.id]);
      // Already revoked: no longer a device of the account.
      await t.http().delete(`/api/v1/account/devices/${lost.deviceId}`).set(phone.auth).expect(404);
    });

    it('revokes the calling device itself', async () => {
      const phone = await registerDevice(t);
      await t
        .http()
        .delete(`/api/v1/account/devices/${phone.deviceId}`)
        .set(phone.auth)
        .expect(204);
      await me(phone).expect(401);
    });

    it('answers 404 for a device of another account, an unknown id or a malformed one', async () => {
      const phone = await registerDevice(t);
      const stranger = await registerDevice(t);
      for (const id of [stranger.deviceId, randomUUID(), 'not-a-uuid', "1' OR '1'='1"]) {
        const response = await t
          .http()
          .delete(`/api/v1/account/devices/${encodeURIComponent(id)}`)
          .set(phone.auth)
          .expect(404);
        expect(response.body).toMatchObject({ statusCode: 404, message: expect.any(String) });
      }
      await me(stranger).expect(200);
    });
  });

  describe('isolation between accounts', () => {
    it('never shows or changes another account’s records, even under the same ids', async () => {
      const ana = await registerDevice(t);
      const anaTablet = await pairDevice(t, ana);
      const ben = await registerDevice(t);
      const shared = game({ name: 'Ana’s game' });
      await syncApi(t, ana).pushOk({ games: { created: [shared] } });
      await syncApi(t, ben).pushOk({ games: { created: [{ ...shared, name: 'Ben’s game' }] } });

      const forBen = await syncApi(t, ben).pullOk();
      expect(forBen.changes.games.updated).toEqual([
        expect.objectContaining({ id: shared.id, name: 'Ben’s game' }),
      ]);
      const forAna = await syncApi(t, anaTablet).pullOk();
      expect(forAna.changes.games.updated).toEqual([
        expect.objectContaining({ id: shared.id, name: 'Ana’s game' }),
      ]);
    });
  });
});

import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { forgeJwt, nowSeconds } from './utils/jwt';
import { snapshotAccount, syncApi } from './utils/sync-api';
import { changes, game } from './utils/sync-records';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

describe('Devices (e2e)', () => {
  let t: TestApp;
  const secret = () => process.env.JWT_SECRET!;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('POST /api/v1/devices/register', () => {
    it('creates a device and returns a bearer token for it', async () => {
      const response = await t
        .http()
        .post('/api/v1/devices/register')
        .send({ name: 'Pixel', platform: 'android' });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        device_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        account_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      const [row] = await t.dataSource.query('SELECT name, platform FROM devices WHERE id = $1', [
        response.body.device_id,
      ]);
      expect(row).toEqual({ name: 'Pixel', platform: 'android' });
    });

    it('accepts an empty body (name and platform are optional)', async () => {
      await t.http().post('/api/v1/devices/register').send({}).expect(201);
      await t.http().post('/api/v1/devices/register').expect(201);
    });

    it('answers 400 with every offending field and creates nothing', async () => {
      const before = await t.dataSource.query('SELECT count(*)::int AS n FROM devices');
      const response = await t
        .http()
        .post('/api/v1/devices/register')
        .send({ name: 'x'.repeat(101), platform: 42 })
        .expect(400);
      expect(response.body.statusCode).toBe(400);
      expect(response.body.message).toEqual(
        expect.arrayContaining([
          expect.stringContaining('name must be shorter than or equal to 100 characters'),
          expect.stringContaining('platform must be a string'),
        ]),
      );
      const after = await t.dataSource.query('SELECT count(*)::int AS n FROM devices');
      expect(after).toEqual(before);
    });

    it('answers a malformed JSON body with a 400 JSON error, never a 500', async () => {
      const response = await t
        .http()
        .post('/api/v1/devices/register')
        .set('Content-Type', 'application/json')
        .send('{"name": "oops"');
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        statusCode: 400,
        message: expect.stringContaining('JSON'),
      });
    });
  });

  describe('GET /api/v1/devices/me', () => {
    it('returns the device behind the token', async () => {
      const device = await registerDevice(t, 'my phone');
      const response = await t.http().get('/api/v1/devices/me').set(device.auth).expect(200);
      expect(response.body).toEqual({
        device_id: device.deviceId,
        account_id: device.accountId,
        name: 'my phone',
        platform: 'test',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        last_seen_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    });

    it('writes last_seen_at at most once a minute', async () => {
      const device = await registerDevice(t);
      const seen = async () =>
        (
          await t.dataSource.query('SELECT last_seen_at FROM devices WHERE id = $1', [
            device.deviceId,
          ])
        )[0].last_seen_at as Date;
      await t.http().get('/api/v1/devices/me').set(device.auth).expect(200);
      const first = await seen();
      await t.http().get('/api/v1/devices/me').set(device.auth).expect(200);
      expect(await seen()).toEqual(first);

      await t.dataSource.query(
        `UPDATE devices SET last_seen_at = now() - interval '2 minutes' WHERE id = $1`,
        [device.deviceId],
      );
      const stale = await seen();
      await t.http().get('/api/v1/devices/me').set(device.auth).expect(200);
      expect((await seen()).getTime()).toBeGreaterThan(stale.getTime());
    });

    it('is kept by the sync routes too: a pull writes a stale one, a push writes it with the clock', async () => {
      const device = await registerDevice(t);
      const sync = syncApi(t, device);
      const seen = async () =>
        (
          await t.dataSource.query('SELECT last_seen_at FROM devices WHERE id = $1', [
            device.deviceId,
          ])
        )[0].last_seen_at as Date | null;
      expect(await seen()).toBeNull();
      const { timestamp } = await sync.pullOk();
      const first = await seen();
      expect(first).toBeInstanceOf(Date);
      await sync.pullOk(timestamp);
      expect(await seen()).toEqual(first);

      const stale = new Date(Date.now() - 120_000);
      const makeStale = () =>
        t.dataSource.query('UPDATE devices SET last_seen_at = $2 WHERE id = $1', [
          device.deviceId,
          stale,
        ]);
      await makeStale();
      await sync.pullOk(timestamp);
      expect((await seen())!.getTime()).toBeGreaterThan(stale.getTime());

      await makeStale();
      await sync.push({ games: { created: [game()] } }, timestamp).expect(200);
      expect((await seen())!.getTime()).toBeGreaterThan(stale.getTime());
    });

    it('does not wait for a push holding the device row to write last_seen_at', async () => {
      const device = await registerDevice(t);
      await t.dataSource.query(
        `UPDATE devices SET last_seen_at = now() - interval '2 minutes' WHERE id = $1`,
        [device.deviceId],
      );
      // Another session holds the device row, as an in-flight push does.
      const holder = t.dataSource.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      try {
        await holder.query('SELECT 1 FROM devices WHERE id = $1 FOR UPDATE', [device.deviceId]);
        const response = await t.http().get('/api/v1/devices/me').set(device.auth).timeout(5000);
        expect(response.status).toBe(200);
        const pulled = await syncApi(t, device).pull().timeout(5000);
        expect(pulled.status).toBe(200);
      } finally {
        await holder.rollbackTransaction();
        await holder.release();
      }
    });

    describe('answers 401 with a JSON body', () => {
      let deviceId: string;
      beforeAll(async () => {
        deviceId = (await registerDevice(t)).deviceId;
      });
      const valid = () => ({ sub: deviceId, iat: nowSeconds(), exp: nowSeconds() + 600 });

      const cases: Array<[string, () => Promise<string | undefined>]> = [
        ['without a token', async () => undefined],
        ['with garbage', async () => 'Bearer not.a.jwt'],
        [
          'with a non-bearer scheme',
          async () => `Basic ${forgeJwt(valid(), { secret: secret() })}`,
        ],
        ['with alg: none', async () => `Bearer ${forgeJwt(valid(), { alg: 'none' })}`],
        [
          'signed with another key',
          async () => `Bearer ${forgeJwt(valid(), { secret: 'x'.repeat(48) })}`,
        ],
        [
          'with alg: HS512 on the right key',
          async () => `Bearer ${forgeJwt(valid(), { secret: secret(), alg: 'HS512' })}`,
        ],
        [
          'when expired',
          async () =>
            `Bearer ${forgeJwt({ sub: deviceId, iat: nowSeconds() - 7200, exp: nowSeconds() - 60 }, { secret: secret() })}`,
        ],
        [
          'for a device that does not exist',
          async () => `Bearer ${forgeJwt({ ...valid(), sub: randomUUID() }, { secret: secret() })}`,
        ],
        [
          'for a subject that is not a uuid',
          async () =>
            `Bearer ${forgeJwt({ ...valid(), sub: "1' OR '1'='1" }, { secret: secret() })}`,
        ],
      ];

      // The device routes load the device in a guard; the sync routes verify the token only and
      // check the device in their own transaction: both must refuse every case. The push body is
      // valid, so nothing but the token can be its reason.
      const routes: Array<[string, () => request.Test]> = [
        ['GET /api/v1/devices/me', () => t.http().get('/api/v1/devices/me')],
        ['GET /api/v1/sync/pull', () => t.http().get('/api/v1/sync/pull')],
        [
          'POST /api/v1/sync/push',
          () =>
            t
              .http()
              .post('/api/v1/sync/push')
              .send({ changes: changes({ games: { created: [game()] } }), last_pulled_at: 1 }),
        ],
      ];

      describe.each(routes)('%s', (_route, send) => {
        it.each(cases)('%s', async (_name, header) => {
          const authorization = await header();
          const req = send();
          if (authorization) req.set('Authorization', authorization);
          const response = await req;
          expect(response.status).toBe(401);
          expect(response.body).toMatchObject({ statusCode: 401, message: expect.any(String) });
        });
      });

      it('the same well-formed token is accepted (the cases above fail for their reason only)', async () => {
        await t
          .http()
          .get('/api/v1/devices/me')
          .set('Authorization', `Bearer ${forgeJwt(valid(), { secret: secret() })}`)
          .expect(200);
      });

      it('for a revoked device, at once, on every route, and its push writes nothing', async () => {
        const device = await registerDevice(t);
        const sync = syncApi(t, device);
        await t.http().get('/api/v1/devices/me').set(device.auth).expect(200);
        const { timestamp } = await sync.pullOk();
        const before = await snapshotAccount(t, device.accountId);
        await t.dataSource.query('UPDATE devices SET revoked_at = now() WHERE id = $1', [
          device.deviceId,
        ]);
        await t.http().get('/api/v1/devices/me').set(device.auth).expect(401);
        await sync.pull({ last_pulled_at: timestamp }).expect(401);
        await sync.push({ games: { created: [game()] } }, timestamp).expect(401);
        // The device is checked before the body is even validated.
        await sync
          .push({ games: { created: [game({ target_score: 'x' })] } }, timestamp)
          .expect(401);
        expect(await snapshotAccount(t, device.accountId)).toEqual(before);
      });
    });
  });
});

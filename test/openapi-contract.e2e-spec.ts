import jestOpenAPI from 'jest-openapi';
import path from 'node:path';
import { syncApi } from './utils/sync-api';
import { game, player, round } from './utils/sync-records';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

jestOpenAPI(path.resolve(__dirname, '../openapi.json'));

/** Real answers of the e2e flows, checked against the committed spec's schemas. */
describe('Responses match the OpenAPI spec (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('devices: register 201, 400; me 200, 401', async () => {
    const registered = await t.http().post('/api/v1/devices/register').send({ name: 'spec' });
    expect(registered.status).toBe(201);
    expect(registered).toSatisfyApiSpec();
    const bad = await t.http().post('/api/v1/devices/register').send({ name: 7 });
    expect(bad.status).toBe(400);
    expect(bad).toSatisfyApiSpec();
    const me = await t
      .http()
      .get('/api/v1/devices/me')
      .set('Authorization', `Bearer ${registered.body.access_token}`);
    expect(me.status).toBe(200);
    expect(me).toSatisfyApiSpec();
    const anonymous = await t.http().get('/api/v1/devices/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous).toSatisfyApiSpec();
  });

  it('account: pairing code 201, register with it 201, 403; token 200, 401; recovery code 201; devices 200; revoke 204, 404', async () => {
    const device = await registerDevice(t);
    const code = await t.http().post('/api/v1/devices/pairing-codes').set(device.auth);
    expect(code.status).toBe(201);
    expect(code).toSatisfyApiSpec();
    const joined = await t
      .http()
      .post('/api/v1/devices/register')
      .send({ pairing_code: code.body.code });
    expect(joined.status).toBe(201);
    expect(joined).toSatisfyApiSpec();
    const refused = await t
      .http()
      .post('/api/v1/devices/register')
      .send({ pairing_code: code.body.code });
    expect(refused.status).toBe(403);
    expect(refused).toSatisfyApiSpec();
    const exchanged = await t
      .http()
      .post('/api/v1/devices/token')
      .send({ refresh_token: joined.body.refresh_token });
    expect(exchanged.status).toBe(200);
    expect(exchanged).toSatisfyApiSpec();
    const stale = await t.http().post('/api/v1/devices/token').send({ refresh_token: 'stale' });
    expect(stale.status).toBe(401);
    expect(stale).toSatisfyApiSpec();
    const recovery = await t.http().post('/api/v1/account/recovery-code').set(device.auth);
    expect(recovery.status).toBe(201);
    expect(recovery).toSatisfyApiSpec();
    const listed = await t.http().get('/api/v1/account/devices').set(device.auth);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(2);
    expect(listed).toSatisfyApiSpec();
    const revoked = await t
      .http()
      .delete(`/api/v1/account/devices/${joined.body.device_id}`)
      .set(device.auth);
    expect(revoked.status).toBe(204);
    expect(revoked).toSatisfyApiSpec();
    const unknown = await t
      .http()
      .delete(`/api/v1/account/devices/${joined.body.device_id}`)
      .set(device.auth);
    expect(unknown.status).toBe(404);
    expect(unknown).toSatisfyApiSpec();
  });

  it('sync: pull 200 (with data, deletions) and 400; push 200, 400, 409, 422', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const g = game({ ended_at: 1764119999999 });
    const gone = game();
    await api.pushOk({
      games: { created: [g, gone] },
      game_players: { created: [player(g.id)] },
      rounds: { created: [round(g.id)] },
    });
    const { timestamp } = await api.pullOk();
    await api.pushOk({ games: { deleted: [gone.id], updated: [{ ...g, status: 'finished' }] } });

    const full = await api.pull();
    expect(full.status).toBe(200);
    expect(full).toSatisfyApiSpec();
    const incremental = await api.pull({ last_pulled_at: timestamp });
    expect(incremental.body.changes.games.deleted).toEqual([gone.id]);
    expect(incremental).toSatisfyApiSpec();
    const badPull = await api.pull({ last_pulled_at: 'yesterday' });
    expect(badPull.status).toBe(400);
    expect(badPull).toSatisfyApiSpec();

    const ok = await api.push({ games: { created: [game()] } }, (await api.pullOk()).timestamp);
    expect(ok.status).toBe(200);
    expect(ok).toSatisfyApiSpec();
    const conflict = await api.push({ games: { updated: [{ ...g, status: 'stale' }] } }, timestamp);
    expect(conflict.status).toBe(409);
    expect(conflict).toSatisfyApiSpec();
    const orphan = await api.push(
      { rounds: { created: [round('nope')] } },
      (await api.pullOk()).timestamp,
    );
    expect(orphan.status).toBe(422);
    expect(orphan).toSatisfyApiSpec();
    const invalid = await api.push({ games: { created: [{ id: '!' }] } }, 0);
    expect(invalid.status).toBe(400);
    expect(invalid).toSatisfyApiSpec();
  });
});

import { TombstonePurgeService } from '../src/sync/purge/tombstone-purge.service';
import { openStream } from './utils/event-stream';
import { syncApi } from './utils/sync-api';
import { game, player } from './utils/sync-records';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';
import { ListeningApp, startListeningApp } from './utils/watermelon';

const TOKEN = 'metrics-token-for-the-e2e-test';

/** The value of one sample line (`name{labels} value`), 0 when it is not there. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('Prometheus metrics (e2e)', () => {
  let t: ListeningApp;
  const saved = { ...process.env };
  beforeAll(async () => {
    process.env.METRICS_TOKEN = TOKEN;
    t = await startListeningApp();
  });
  afterAll(async () => {
    process.env = saved;
    await t.close();
  });

  const scrape = async () =>
    (await t.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200)).text;

  it('serves /metrics only to the bearer of METRICS_TOKEN', async () => {
    await t.http().get('/metrics').expect(401);
    await t.http().get('/metrics').set('Authorization', 'Bearer not-the-token').expect(401);
    const response = await t.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    // Node's own process metrics, and the pool's connections.
    expect(response.text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(response.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(response.text).toMatch(/^db_pool_connections\{state="idle"\} \d+/m);
    expect(response.text).toMatch(/^db_pool_connections\{state="waiting"\} \d+/m);
  });

  it('counts what a scripted session did: syncs, records, a conflict, a purge, a stream', async () => {
    const before = await scrape();
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const g = game();
    const players = [player(g.id), player(g.id)];
    // Two pushes of 3 and 1 records, each after a pull.
    await api.pushOk({ games: { created: [g] }, game_players: { created: players } });
    const { timestamp } = await api.pullOk();
    await api.push({ games: { updated: [{ ...g, status: 'finished' }] } }, timestamp).expect(200);
    // A conflict (stale timestamp), a malformed push, a push over the record limit.
    await api.push({ games: { updated: [{ ...g, status: 'stale' }] } }, timestamp).expect(409);
    await api.push({ games: { created: [{ id: '!' }] } }, timestamp).expect(400);
    // Pulls: 3 live records from scratch, then 1 change.
    await api.pullOk();
    await api.pullOk(timestamp);
    // A deletion, purged, then a pull from before it: a replacement.
    const gone = game();
    await api.pushOk({ games: { created: [gone] } });
    const { timestamp: beforeDeletion } = await api.pullOk();
    await api.pushOk({ games: { deleted: [gone.id] } });
    await t.dataSource.query(
      `UPDATE games SET deleted_at = now() - interval '91 days' WHERE account_id = $1 AND id = $2`,
      [device.accountId, gone.id],
    );
    const purged = await t.app.get(TombstonePurgeService).purge();
    await api.pull({ last_pulled_at: beforeDeletion }).expect(200);
    const stream = await openStream(t.baseUrl, device.auth);

    const after = await scrape();
    const delta = (name: string, labels = '') =>
      sample(after, name, labels) - sample(before, name, labels);
    // Applied: the first push, the update, the game to delete, its deletion.
    expect(delta('sync_pushes_total', 'outcome="200"')).toBe(4);
    expect(delta('sync_pushes_total', 'outcome="409"')).toBe(1);
    expect(delta('sync_pushes_total', 'outcome="400"')).toBe(1);
    expect(delta('sync_records_pushed_total')).toBe(3 + 1 + 1 + 1);
    expect(delta('sync_replacement_pulls_total')).toBe(1);
    expect(delta('sync_tombstones_purged_total')).toBe(purged);
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'sync_event_streams_open')).toBe(1);
    // Every pull of the session: pushOk pulls first (3), the explicit pulls (4), the
    // replacement (1).
    expect(
      delta(
        'http_request_duration_seconds_count',
        'method="GET",route="/api/v1/sync/pull",status_code="200"',
      ),
    ).toBe(8);
    expect(delta('sync_records_pulled_total')).toBeGreaterThanOrEqual(3 + 1);

    // Labels never carry ids: no uuid, no record id, no raw path.
    for (const id of [device.deviceId, device.accountId, g.id, gone.id]) {
      expect(after).not.toContain(id);
    }
    expect(after).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    stream.close();
  });
});

describe('Metrics without METRICS_TOKEN (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('serves no /metrics at all', async () => {
    await t.http().get('/metrics').expect(404);
    await t.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(404);
  });
});

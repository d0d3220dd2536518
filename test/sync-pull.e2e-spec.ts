import { SYNC_TABLE_NAMES } from '../src/sync/registry/sync-tables';
import { syncApi } from './utils/sync-api';
import { changes as allTables, game, player, round, score } from './utils/sync-records';
import { createTestApp, registerDevice, RegisteredDevice, TestApp } from './utils/test-app';

describe('GET /api/v1/sync/pull (e2e)', () => {
  let t: TestApp;
  let device: RegisteredDevice;
  let api: ReturnType<typeof syncApi>;

  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());
  beforeEach(async () => {
    device = await registerDevice(t);
    api = syncApi(t, device);
  });

  it('answers a new device with every synced table, all three arrays empty, and a timestamp > 0', async () => {
    const response = await api.pull().expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(response.body.changes).sort()).toEqual([...SYNC_TABLE_NAMES].sort());
    for (const table of SYNC_TABLE_NAMES)
      expect(response.body.changes[table]).toEqual({ created: [], updated: [], deleted: [] });
    expect(Number.isInteger(response.body.timestamp)).toBe(true);
    expect(response.body.timestamp).toBeGreaterThan(0);
  });

  describe('first sync', () => {
    it.each([
      ['absent', {}],
      ['empty', { last_pulled_at: '' }],
      ['0', { last_pulled_at: '0' }],
      ['null', { last_pulled_at: 'null' }],
    ])(
      'with last_pulled_at %s returns every live record in updated, no deletions',
      async (_name, query) => {
        const g = game({ ended_at: 1764119999999 });
        const p = player(g.id);
        const r = round(g.id, { caller_id: p.id });
        const s = score(r.id, p.id);
        const gone = game();
        await api.pushOk({
          games: { created: [g, gone] },
          game_players: { created: [p] },
          rounds: { created: [r] },
          scores: { created: [s] },
        });
        await api.pushOk({ games: { deleted: [gone.id] } });

        const { changes } = (await api.pull(query).expect(200)).body;
        expect(changes).toEqual(
          allTables({
            games: { updated: [g] },
            game_players: { updated: [p] },
            rounds: { updated: [r] },
            scores: { updated: [s] },
          }),
        );
      },
    );
  });

  it('returns only what changed since last_pulled_at, deletions as ids, no id twice', async () => {
    const kept = game();
    const edited = game();
    const removed = game();
    await api.pushOk({ games: { created: [kept, edited, removed] } });
    const { timestamp } = await api.pullOk();

    const added = game();
    await api.pushOk({ games: { created: [added], updated: [{ ...edited, status: 'finished' }] } });
    await api.pushOk({ games: { updated: [{ ...removed, status: 'x' }] } });
    await api.pushOk({ games: { deleted: [removed.id] } });

    const { changes } = await api.pullOk(timestamp);
    const updatedIds = changes.games.updated.map((r) => r.id).sort();
    expect(updatedIds).toEqual([added.id, edited.id].sort());
    expect(changes.games.updated.find((r) => r.id === edited.id)).toMatchObject({
      status: 'finished',
    });
    expect(changes.games.deleted).toEqual([removed.id]);
    expect(changes.games.created).toEqual([]);
  });

  it('gives a timestamp that never goes down and that returns nothing new when nothing changed', async () => {
    const first = await api.pullOk();
    await api.pushOk({ games: { created: [game()] } });
    const second = await api.pullOk(first.timestamp);
    expect(second.timestamp).toBeGreaterThan(first.timestamp);
    const third = await api.pullOk(second.timestamp);
    expect(third.timestamp).toBe(second.timestamp);
    expect(third.changes.games).toEqual({ created: [], updated: [], deleted: [] });
  });

  it('serves dates as epoch-ms integers, not strings', async () => {
    const g = game({ started_at: 8_640_000_000_000_000, ended_at: 0 });
    await api.pushOk({ games: { created: [g] } });
    const [stored] = (await api.pullOk()).changes.games.updated;
    expect(stored.started_at).toBe(8_640_000_000_000_000);
    expect(stored.ended_at).toBe(0);
  });

  it('streams a pull of many chunks: every record once, non-ASCII text intact', async () => {
    // ~2,000 records of ~200 bytes: the response goes out in several 64 KiB chunks.
    const games = Array.from({ length: 400 }, (_, i) =>
      game({ name: `Partie ${i} — 🍉 «${'é'.repeat(60)}»` }),
    );
    const players = games.flatMap((g) => [player(g.id, { name: 'Zoë ✓' }), player(g.id)]);
    const rounds = games.map((g) => round(g.id));
    const scores = rounds.flatMap((r, i) => [
      score(r.id, players[2 * i].id),
      score(r.id, players[2 * i + 1].id),
    ]);
    await api.pushOk({
      games: { created: games },
      game_players: { created: players },
      rounds: { created: rounds },
      scores: { created: scores },
    });
    const { timestamp } = await api.pullOk();
    await api.pushOk({ games: { deleted: games.slice(0, 150).map((g) => g.id) } });

    const response = await api.pull().expect(200);
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(Buffer.byteLength(response.text)).toBeGreaterThan(3 * 64 * 1024);
    const byId = <T extends { id: string }>(records: T[]) =>
      [...records].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(response.body.changes.games.updated)).toEqual(byId(games.slice(150)));
    expect(response.body.changes.scores.updated).toHaveLength(scores.length - 300);

    const since = (await api.pull({ last_pulled_at: String(timestamp) }).expect(200)).body;
    expect([...since.changes.games.deleted].sort()).toEqual(
      games
        .slice(0, 150)
        .map((g) => g.id)
        .sort(),
    );
    expect([...since.changes.rounds.deleted].sort()).toEqual(
      rounds
        .slice(0, 150)
        .map((r) => r.id)
        .sort(),
    );
  });

  it("never shows another device's records", async () => {
    const other = await registerDevice(t, 'other');
    await syncApi(t, other).pushOk({ games: { created: [game()] } });
    expect((await api.pullOk()).changes.games.updated).toEqual([]);
  });

  describe('validation: 400', () => {
    it.each([
      ['last_pulled_at', 'abc'],
      ['last_pulled_at', '-1'],
      ['last_pulled_at', '1.5'],
      ['last_pulled_at', '1e3'],
      ['schema_version', '0'],
      ['schema_version', 'two'],
      ['migration', '{not json'],
      ['migration', '[1,2]'],
      ['migration', '{"from":"x","tables":[],"columns":[]}'],
      ['migration', '{"from":1,"tables":"rounds","columns":[]}'],
      ['migration', '{"from":1,"tables":[],"columns":[{"table":"games","columns":[1]}]}'],
    ])('rejects %s=%s, naming it', async (name, value) => {
      const response = await api.pull({ [name]: value });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.message)).toContain(name);
    });

    it('rejects last_pulled_at given twice', async () => {
      const response = await t
        .http()
        .get('/api/v1/sync/pull?last_pulled_at=1&last_pulled_at=2')
        .set(device.auth);
      expect(response.status).toBe(400);
    });

    it('rejects a last_pulled_at that this server never issued to the device', async () => {
      const { timestamp } = await api.pullOk();
      const response = await api.pull({ last_pulled_at: timestamp + 1 });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/was not issued by this server/);
    });

    it('answers 401 without a token', async () => {
      await t.http().get('/api/v1/sync/pull').expect(401);
    });
  });

  describe('schema_version and migration', () => {
    it('accepts a schema_version, including one newer than the server knows, and migration=null', async () => {
      await api.pull({ schema_version: 1, migration: 'null' }).expect(200);
      await api.pull({ schema_version: 7 }).expect(200);
    });

    it('returns every live record of tables (or columns) a client migration added, whatever last_pulled_at says', async () => {
      const g = game();
      const r = round(g.id);
      const p = player(g.id);
      await api.pushOk({
        games: { created: [g] },
        rounds: { created: [r] },
        game_players: { created: [p] },
      });
      const { timestamp } = await api.pullOk();
      const migration = JSON.stringify({
        from: 1,
        tables: ['rounds', 'not_a_table'],
        columns: [{ table: 'game_players', columns: ['nickname'] }],
      });

      const { changes } = (
        await api.pull({ last_pulled_at: timestamp, schema_version: 2, migration }).expect(200)
      ).body;
      expect(changes.rounds.updated).toEqual([r]);
      expect(changes.game_players.updated).toEqual([p]);
      expect(changes.games.updated).toEqual([]);
      expect(changes.not_a_table).toBeUndefined();
    });
  });
});

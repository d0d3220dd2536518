import { snapshotAccount, syncApi } from './utils/sync-api';
import { game, player, round, score } from './utils/sync-records';
import { createTestApp, registerDevice, RegisteredDevice, TestApp } from './utils/test-app';

describe('POST /api/v1/sync/push (e2e)', () => {
  let t: TestApp;
  let device: RegisteredDevice;
  let api: ReturnType<typeof syncApi>;

  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());
  beforeEach(async () => {
    device = await registerDevice(t);
    api = syncApi(t, device);
  });

  const row = async (table: string, id: string) =>
    (
      await t.dataSource.query(`SELECT * FROM "${table}" WHERE account_id = $1 AND id = $2`, [
        device.accountId,
        id,
      ])
    )[0];
  const count = async (table: string) =>
    (
      await t.dataSource.query(`SELECT count(*)::int AS n FROM "${table}" WHERE account_id = $1`, [
        device.accountId,
      ])
    )[0].n;

  /** Pushes, expects `status`, and checks that a refused push changed nothing at all. */
  async function pushExpecting(
    status: number,
    input: Parameters<typeof api.push>[0],
    lastPulledAt?: unknown,
  ) {
    const before = await snapshotAccount(t, device.accountId);
    const lpa = lastPulledAt ?? (await api.pullOk()).timestamp;
    const response = await api.push(input, lpa);
    expect({ status: response.status, body: response.body }).toMatchObject({ status });
    if (status !== 200) expect(await snapshotAccount(t, device.accountId)).toEqual(before);
    return response;
  }

  describe('applying changes', () => {
    it('stores created and updated records under the client ids, with every column', async () => {
      const g = game({ name: 'Ünïcödé 🎲', ended_at: 1764119999999, winner_id: 'whoever' });
      const p = player(g.id);
      const response = await pushExpecting(200, {
        games: { created: [g] },
        game_players: { updated: [p] },
      });
      expect(response.body).toEqual({ ok: true });
      expect(await row('games', g.id)).toMatchObject({
        ...g,
        started_at: String(g.started_at),
        ended_at: '1764119999999',
        deleted_at: null,
      });
      expect(await row('game_players', p.id)).toMatchObject({ ...p, deleted_at: null });
    });

    it('updates a created id that already exists, and creates an updated id that does not', async () => {
      const g = game();
      await api.pushOk({ games: { updated: [g] } });
      await api.pushOk({ games: { created: [{ ...g, status: 'finished' }] } });
      expect(await count('games')).toBe(1);
      expect((await row('games', g.id)).status).toBe('finished');
    });

    it('ignores a deleted id that does not exist', async () => {
      await pushExpecting(200, { games: { deleted: ['never-existed'] } });
      expect(await count('games')).toBe(0);
    });

    it('ignores _status, _changed and unknown keys; pulls never carry them', async () => {
      const base = game();
      const g = { ...base, _status: 'created', _changed: 'name,status', color: 'red' };
      await pushExpecting(200, { games: { created: [g] } });
      const { changes } = await api.pullOk();
      expect(changes.games.updated).toEqual([
        {
          id: base.id,
          name: base.name,
          target_score: 500,
          status: 'active',
          winner_id: null,
          started_at: base.started_at,
          ended_at: null,
        },
      ]);
    });

    it('stores winner_id and caller_id as given, even when they point nowhere', async () => {
      const g = game({ winner_id: 'nobody' });
      const r = round(g.id, { caller_id: 'ghost' });
      await pushExpecting(200, { games: { created: [g] }, rounds: { created: [r] } });
      expect((await row('rounds', r.id)).caller_id).toBe('ghost');
    });

    it('is harmless to replay: no duplicates, even with the same last_pulled_at', async () => {
      const g = game();
      const p = player(g.id);
      const { timestamp } = await api.pullOk();
      const input = { games: { created: [g] }, game_players: { created: [p] } };
      expect((await api.push(input, timestamp)).status).toBe(200);
      expect((await api.push(input, timestamp)).status).toBe(200);
      expect((await api.push(input, (await api.pullOk()).timestamp)).status).toBe(200);
      expect(await count('games')).toBe(1);
      expect(await count('game_players')).toBe(1);
    });

    it('applies a large push in one request (one statement per table, not per record)', async () => {
      const games = Array.from({ length: 2000 }, () => game());
      await pushExpecting(200, { games: { created: games } });
      expect(await count('games')).toBe(2000);
    });
  });

  describe('conflicts: 409 and nothing applied', () => {
    it('answers 409 listing each record changed on the server after last_pulled_at', async () => {
      const g1 = game();
      const g2 = game();
      const g3 = game();
      await api.pushOk({ games: { created: [g1, g2, g3] } });
      const stale = (await api.pullOk()).timestamp;
      await api.pushOk({
        games: {
          updated: [
            { ...g1, status: 'server-side' },
            { ...g2, status: 'server-side' },
          ],
        },
      });

      const fresh = game();
      const response = await pushExpecting(
        409,
        { games: { created: [fresh], updated: [{ ...g1, status: 'client' }], deleted: [g2.id] } },
        stale,
      );
      expect(response.body).toMatchObject({ statusCode: 409, message: expect.any(String) });
      expect(response.body.conflicts).toEqual(
        expect.arrayContaining([
          { table: 'games', id: g1.id },
          { table: 'games', id: g2.id },
        ]),
      );
      expect(response.body.conflicts).toHaveLength(2);
      expect(await row('games', fresh.id)).toBeUndefined();
    });

    it('counts a created id that already exists with a newer change as a conflict', async () => {
      const g = game();
      const stale = (await api.pullOk()).timestamp;
      await api.pushOk({ games: { created: [g] } });
      const response = await pushExpecting(
        409,
        { games: { created: [{ ...g, name: 'other' }] } },
        stale,
      );
      expect(response.body.conflicts).toEqual([{ table: 'games', id: g.id }]);
    });

    it('counts an update of a record deleted on the server after last_pulled_at as a conflict', async () => {
      const g = game();
      await api.pushOk({ games: { created: [g] } });
      const stale = (await api.pullOk()).timestamp;
      await api.pushOk({ games: { deleted: [g.id] } });
      await pushExpecting(409, { games: { updated: [g] } }, stale);
    });

    it('is not a conflict when the record was last changed at or before last_pulled_at', async () => {
      const g = game();
      await api.pushOk({ games: { created: [g] } });
      await pushExpecting(200, { games: { updated: [{ ...g, status: 'finished' }] } });
    });
  });

  describe('cascade and parents', () => {
    async function seedGame() {
      const g = game();
      const p1 = player(g.id);
      const p2 = player(g.id, { position: 2 });
      const r = round(g.id);
      const s1 = score(r.id, p1.id);
      const s2 = score(r.id, p2.id);
      await api.pushOk({
        games: { created: [g] },
        game_players: { created: [p1, p2] },
        rounds: { created: [r] },
        scores: { created: [s1, s2] },
      });
      return { g, p1, p2, r, s1, s2 };
    }
    const isDeleted = async (table: string, id: string) =>
      (await row(table, id)).deleted_at !== null;

    it('deleting a game deletes its players, rounds and their scores', async () => {
      const { g, p1, p2, r, s1, s2 } = await seedGame();
      const { timestamp } = await api.pullOk();
      await pushExpecting(200, { games: { deleted: [g.id] } }, timestamp);
      for (const [table, id] of [
        ['games', g.id],
        ['game_players', p1.id],
        ['game_players', p2.id],
        ['rounds', r.id],
        ['scores', s1.id],
        ['scores', s2.id],
      ]) {
        expect(await isDeleted(table, id)).toBe(true);
      }
      const { changes } = await api.pullOk(timestamp);
      expect(changes.games.deleted).toEqual([g.id]);
      expect(changes.game_players.deleted.sort()).toEqual([p1.id, p2.id].sort());
      expect(changes.rounds.deleted).toEqual([r.id]);
      expect(changes.scores.deleted.sort()).toEqual([s1.id, s2.id].sort());
    });

    it('deleting a round deletes its scores; deleting a player deletes its scores', async () => {
      const { p1, p2, r, s1, s2 } = await seedGame();
      await api.pushOk({ game_players: { deleted: [p1.id] } });
      expect([
        await isDeleted('scores', s1.id),
        await isDeleted('scores', s2.id),
        await isDeleted('game_players', p2.id),
      ]).toEqual([true, false, false]);
      await api.pushOk({ rounds: { deleted: [r.id] } });
      expect(await isDeleted('scores', s2.id)).toBe(true);
    });

    it('stores a child pushed under a parent that is already deleted as deleted, and the next pull removes it', async () => {
      const { g } = await seedGame();
      await api.pushOk({ games: { deleted: [g.id] } });
      const { timestamp } = await api.pullOk();
      const late = player(g.id, { name: 'late' });
      await pushExpecting(200, { game_players: { created: [late] } }, timestamp);
      expect(await isDeleted('game_players', late.id)).toBe(true);
      const { changes } = await api.pullOk(timestamp);
      expect(changes.game_players).toEqual({ created: [], updated: [], deleted: [late.id] });
    });

    it("counts a parent in the push's own deleted list as deleted, even one the server never had", async () => {
      const { g } = await seedGame();
      const p = player(g.id);
      const ghostRound = 'round-created-and-deleted-offline';
      const s = score(ghostRound, p.id);
      await pushExpecting(200, {
        games: { deleted: [g.id] },
        game_players: { created: [p] },
        rounds: { deleted: [ghostRound] },
        scores: { created: [s] },
      });
      expect(await isDeleted('game_players', p.id)).toBe(true);
      expect(await isDeleted('scores', s.id)).toBe(true);
    });

    it('follows deletion through a chain of pushed records (game deleted -> new round -> new score)', async () => {
      const { g, p1 } = await seedGame();
      const r = round(g.id);
      const s = score(r.id, p1.id);
      await pushExpecting(200, {
        games: { deleted: [g.id] },
        rounds: { created: [r] },
        scores: { created: [s] },
      });
      expect([await isDeleted('rounds', r.id), await isDeleted('scores', s.id)]).toEqual([
        true,
        true,
      ]);
    });

    it('keeps a tombstoned record deleted when an update for it arrives later (deletion wins)', async () => {
      const { g } = await seedGame();
      await api.pushOk({ games: { deleted: [g.id] } });
      await pushExpecting(200, { games: { updated: [{ ...g, name: 'revived?' }] } });
      expect(await isDeleted('games', g.id)).toBe(true);
    });

    it('answers 422 naming a child whose parent the device never had, and applies nothing', async () => {
      const g = game();
      const orphan = round('no-such-game');
      const response = await pushExpecting(422, {
        games: { created: [g] },
        rounds: { created: [orphan] },
      });
      expect(response.body.message).toEqual([
        expect.stringContaining(`rounds ${orphan.id}: game_id no-such-game`),
      ]);
      expect(response.body.orphans).toEqual([
        { table: 'rounds', id: orphan.id, column: 'game_id', parent_id: 'no-such-game' },
      ]);
    });

    it('accepts a parent that arrives in the same push', async () => {
      const g = game();
      const p = player(g.id);
      const r = round(g.id);
      await pushExpecting(200, {
        games: { created: [g] },
        game_players: { created: [p] },
        rounds: { created: [r] },
        scores: { created: [score(r.id, p.id)] },
      });
      expect(await count('scores')).toBe(1);
    });
  });

  describe('validation: 400 listing every offending path, nothing applied', () => {
    it('lists every offending path at once', async () => {
      const good = game();
      const response = await pushExpecting(400, {
        games: {
          created: [good, { ...game(), target_score: 1.5, status: null, name: 'x'.repeat(201) }],
        },
        scores: { created: [{ ...score('r', 'p'), raw_score: '7' }], updated: [{ id: 'bad id!' }] },
        unknown_table: { created: [] },
      });
      expect(response.body.statusCode).toBe(400);
      expect(response.body.message).toEqual(
        expect.arrayContaining([
          'changes.unknown_table is not a known table',
          'changes.games.created[1].target_score must be a 32-bit integer',
          'changes.games.created[1].status must not be null',
          'changes.games.created[1].name must be at most 200 characters',
          'changes.scores.created[0].raw_score must be a 32-bit integer',
          'changes.scores.updated[0].id must be an id matching ^[A-Za-z0-9_.-]{1,64}$',
          'changes.scores.updated[0].round_id is required',
        ]),
      );
    });

    it.each<[string, unknown, string]>([
      ['last_pulled_at missing', undefined, 'last_pulled_at must be a positive integer'],
      ['last_pulled_at 0', 0, 'last_pulled_at must be a positive integer'],
      ['last_pulled_at as a string', '1764115200000', 'last_pulled_at must be a positive integer'],
      ['last_pulled_at fractional', 1.5, 'last_pulled_at must be a positive integer'],
    ])('rejects %s', async (_name, lastPulledAt, message) => {
      const response = await t
        .http()
        .post('/api/v1/sync/push')
        .set(device.auth)
        .send({ changes: {}, last_pulled_at: lastPulledAt });
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual([expect.stringContaining(message)]);
    });

    it('rejects a last_pulled_at that this server never issued to the device', async () => {
      const { timestamp } = await api.pullOk();
      const response = await pushExpecting(
        400,
        { games: { created: [game()] } },
        timestamp + 60_000,
      );
      expect(response.body.message).toMatch(/was not issued by this server/);
    });

    it.each<[string, unknown, string]>([
      ['changes that is not an object', [], 'changes must be an object'],
      ['a table that is not an object', { games: [] }, 'changes.games must be an object'],
      [
        'an array that is not an array',
        { games: { created: {} } },
        'changes.games.created must be an array',
      ],
      [
        'a record that is not an object',
        { games: { updated: ['g1'] } },
        'changes.games.updated[0] must be an object',
      ],
      [
        'a deleted id that is not an id',
        { games: { deleted: [42] } },
        'changes.games.deleted[0] must be an id',
      ],
      [
        'an id listed twice',
        { games: { created: [game({ id: 'dup' })], deleted: ['dup'] } },
        'changes.games: id "dup" appears more than once',
      ],
      [
        'a NUL character in a string',
        { games: { created: [game({ name: 'a\u0000b' })] } },
        'name must not contain NUL characters',
      ],
      [
        'an int beyond 32 bits',
        { game_players: { created: [player('g', { position: 2 ** 31 })] } },
        'position must be a 32-bit integer',
      ],
      [
        'a date that is not epoch ms',
        { games: { created: [game({ started_at: -1 })] } },
        'started_at must be an integer of epoch milliseconds',
      ],
    ])('rejects %s', async (_name, changesValue, message) => {
      const { timestamp } = await api.pullOk();
      const response = await t
        .http()
        .post('/api/v1/sync/push')
        .set(device.auth)
        .send({ changes: changesValue, last_pulled_at: timestamp });
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual(
        expect.arrayContaining([expect.stringContaining(message)]),
      );
      expect(await count('games')).toBe(0);
    });

    it('rejects 1e400 (Infinity once parsed) in an int column', async () => {
      const { timestamp } = await api.pullOk();
      const body = `{"changes":{"games":{"created":[{"id":"g","name":null,"target_score":1e400,"status":"a","winner_id":null,"started_at":1,"ended_at":null}]}},"last_pulled_at":${timestamp}}`;
      const response = await api.pushRaw(body);
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual([
        'changes.games.created[0].target_score must be a 32-bit integer',
      ]);
    });

    it('rejects lone surrogates, which UTF-8 cannot store as sent', async () => {
      const { timestamp } = await api.pullOk();
      const body = `{"changes":{"games":{"created":[{"id":"g","name":"a\\ud800b","target_score":1,"status":"\\udc00","winner_id":null,"started_at":1,"ended_at":null}]}},"last_pulled_at":${timestamp}}`;
      const response = await api.pushRaw(body);
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual([
        'changes.games.created[0].name must be valid Unicode (no lone surrogates)',
        'changes.games.created[0].status must be valid Unicode (no lone surrogates)',
      ]);
      expect(await count('games')).toBe(0);
    });

    it('rejects a body that is not valid UTF-8 instead of storing U+FFFD', async () => {
      const { timestamp } = await api.pullOk();
      const body = Buffer.concat([
        Buffer.from('{"changes":{"games":{"created":[{"id":"g","name":"a'),
        Buffer.from([0xff, 0x62, 0xc0, 0xaf]),
        Buffer.from(
          `","target_score":1,"status":"s","winner_id":null,"started_at":1,"ended_at":null}]}},"last_pulled_at":${timestamp}}`,
        ),
      ]);
      const response = await api.pushRaw(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        statusCode: 400,
        message: expect.stringContaining('UTF-8'),
      });
      expect(await count('games')).toBe(0);
    });

    it('answers 401 without a token', async () => {
      await t.http().post('/api/v1/sync/push').send({ changes: {}, last_pulled_at: 1 }).expect(401);
    });
  });

  describe('isolation between devices', () => {
    it('keeps the same client id on two devices as two records', async () => {
      const other = await registerDevice(t, 'other');
      const otherApi = syncApi(t, other);
      const shared = game({ id: 'same-id', name: 'mine' });
      await api.pushOk({ games: { created: [shared] } });
      await otherApi.pushOk({ games: { created: [{ ...shared, name: 'theirs' }] } });
      await otherApi.pushOk({ games: { deleted: ['same-id'] } });

      const mine = await api.pullOk();
      expect(mine.changes.games.updated).toEqual([
        expect.objectContaining({ id: 'same-id', name: 'mine' }),
      ]);
      expect((await row('games', 'same-id')).deleted_at).toBeNull();
    });

    it('answers 422 for a parent that exists only on another device', async () => {
      const other = await registerDevice(t, 'other');
      const theirs = game();
      await syncApi(t, other).pushOk({ games: { created: [theirs] } });
      await pushExpecting(422, { game_players: { created: [player(theirs.id)] } });
    });
  });
});

describe('POST /api/v1/sync/push limits (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    process.env.SYNC_MAX_PUSH_RECORDS = '5';
    process.env.BODY_LIMIT = '64kb';
    t = await createTestApp();
  });
  afterAll(async () => {
    delete process.env.SYNC_MAX_PUSH_RECORDS;
    delete process.env.BODY_LIMIT;
    await t.close();
  });

  it('answers 413 with a message to split when a push carries too many records', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const { timestamp } = await api.pullOk();
    const response = await api.push(
      { games: { created: Array.from({ length: 6 }, () => game()) } },
      timestamp,
    );
    expect(response.status).toBe(413);
    expect(response.body.message).toMatch(/at most 5 records; this one has 6\. Split it/);
    expect((await api.pullOk()).changes.games.updated).toEqual([]);
  });

  it('answers 413 JSON for a body over the configured limit', async () => {
    const device = await registerDevice(t);
    const response = await t
      .http()
      .post('/api/v1/sync/push')
      .set(device.auth)
      .send({
        changes: { games: { created: [game({ name: 'x'.repeat(70_000) })] } },
        last_pulled_at: 1,
      });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ statusCode: 413, message: expect.any(String) });
  });

  it('applies the limit to every content type, not only JSON', async () => {
    const device = await registerDevice(t);
    const response = await t
      .http()
      .post('/api/v1/sync/push')
      .set(device.auth)
      .set('Content-Type', 'text/plain')
      .send('x'.repeat(70_000));
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ statusCode: 413, message: expect.any(String) });
  });
});

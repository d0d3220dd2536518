import { SYNC_TABLE_NAMES } from '../../src/sync/registry/sync-tables';
import { ChangesInput, changes } from './sync-records';
import { RegisteredDevice, TestApp } from './test-app';

export type PullBody = {
  changes: Record<
    string,
    {
      created: Array<Record<string, unknown>>;
      updated: Array<Record<string, unknown>>;
      deleted: string[];
    }
  >;
  timestamp: number;
};

/** Thin wrappers over the two sync endpoints for one device. */
export function syncApi(t: TestApp, device: RegisteredDevice) {
  const pull = (query: Record<string, string | number> = {}) =>
    t.http().get('/api/v1/sync/pull').query(query).set(device.auth);
  const push = (input: ChangesInput | Record<string, unknown>, lastPulledAt: unknown) =>
    t
      .http()
      .post('/api/v1/sync/push')
      .set(device.auth)
      .send({ changes: changes(input as ChangesInput), last_pulled_at: lastPulledAt });
  /** A push body sent byte for byte as given (JSON text, or bytes that are not even UTF-8). */
  const pushRaw = (body: string | Buffer) =>
    t
      .http()
      .post('/api/v1/sync/push')
      .set(device.auth)
      .set('Content-Type', 'application/json')
      .serialize((raw: unknown) => raw as string)
      .send(body);
  return {
    pull,
    push,
    pushRaw,
    /** Pulls and returns the body, failing on anything but 200. */
    async pullOk(lastPulledAt?: number): Promise<PullBody> {
      const response = await pull(
        lastPulledAt === undefined ? {} : { last_pulled_at: lastPulledAt },
      );
      if (response.status !== 200)
        throw new Error(`pull answered ${response.status}: ${response.text}`);
      return response.body as PullBody;
    },
    /** Pulls for a fresh timestamp, then pushes with it, failing on anything but 200. */
    async pushOk(input: ChangesInput): Promise<void> {
      const { timestamp } = (await pull()).body as PullBody;
      const response = await push(input, timestamp);
      if (response.status !== 200)
        throw new Error(`push answered ${response.status}: ${response.text}`);
    },
  };
}

/** Every row of an account across the synced tables and its clock, to prove that a refused request changed nothing. */
export async function snapshotAccount(t: TestApp, accountId: string): Promise<unknown> {
  const tables: Record<string, unknown> = {};
  for (const table of SYNC_TABLE_NAMES) {
    tables[table] = await t.dataSource.query(
      `SELECT * FROM "${table}" WHERE account_id = $1 ORDER BY id`,
      [accountId],
    );
  }
  const [account] = await t.dataSource.query('SELECT last_stamp FROM accounts WHERE id = $1', [
    accountId,
  ]);
  return { tables, account };
}

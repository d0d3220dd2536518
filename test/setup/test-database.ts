import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresServer } from '../../src/database/embedded/embedded-postgres.server';
import { freePort } from '../../scripts/free-port';

export { freePort };

export type TestDatabase = { url: string; drop(): Promise<void> };

/** A temp folder that the `postgres` user can enter (the embedded server runs as it under root). */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * A database of its own for this test run: on the server named by DATABASE_URL (created, then
 * dropped), or on a throwaway embedded cluster when DATABASE_URL is unset.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) return createDatabaseOn(serverUrl);
  const dir = makeTempDir('sync-test-pg-');
  const server = await EmbeddedPostgresServer.start({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    persistent: false,
  });
  return {
    url: server.url,
    drop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new, empty database on the server that `serverUrl` points at (dropped by `drop()`). */
export async function createDatabaseOn(
  serverUrl: string,
  prefix = 'sync_test',
): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

import type { PoolClient } from 'pg';
import type { QueryRunner } from 'typeorm';

/**
 * Runs one of the sync statements as a named prepared statement on the runner's own connection
 * (so inside its transaction): PostgreSQL parses and plans it once per connection instead of on
 * every request. The statements are built once from the registry, so each name has one text.
 */
export async function queryPrepared<T>(
  runner: QueryRunner,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const client = (await runner.connect()) as PoolClient;
  const result = await client.query({ name, text, values });
  return result.rows as T[];
}

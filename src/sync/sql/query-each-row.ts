import { PoolClient, Query, QueryArrayConfig, QueryConfig } from 'pg';
import type { QueryRunner } from 'typeorm';

/**
 * Runs a named prepared statement on the runner's connection (see query-prepared.ts) and hands
 * each row, as an array of column values, to `onRow` as it arrives: the rows are never collected
 * into one result. Resolves once the statement completed.
 */
export async function queryEachRow<R extends unknown[]>(
  runner: QueryRunner,
  name: string,
  text: string,
  values: unknown[],
  onRow: (row: R) => void,
): Promise<void> {
  const client = (await runner.connect()) as PoolClient;
  await new Promise<void>((resolve, reject) => {
    const config: QueryArrayConfig = { name, text, values, rowMode: 'array' };
    const query = new Query<R>(config as QueryConfig);
    query.on('row', (row: R) => onRow(row));
    query.on('error', reject);
    query.on('end', () => resolve());
    client.query(query);
  });
}

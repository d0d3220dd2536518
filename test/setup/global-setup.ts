import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { createTestDatabase, TestDatabase } from './test-database';

declare global {
  var __TEST_DATABASE__: TestDatabase | undefined;
}

/**
 * One fresh database per `npm test` run, migrated once. Test workers inherit DATABASE_URL
 * (and the fixed test secrets from env.ts) from this process.
 */
export default async function globalSetup(): Promise<void> {
  const database = await createTestDatabase();
  globalThis.__TEST_DATABASE__ = database;
  process.env.DATABASE_URL = database.url;
  process.env.TEST_DATABASE_URL = database.url;
  const dataSource = new DataSource(buildDataSourceOptions(database.url));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    await dataSource.destroy();
  }
}

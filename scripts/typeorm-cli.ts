/**
 * Runs the TypeORM CLI against ormconfig.ts. With DATABASE_URL unset it starts the embedded
 * PostgreSQL first (the same one `npm start` uses) and stops it afterwards.
 * Usage: npm run typeorm -- migration:run
 */
import 'dotenv/config';
import { spawn } from 'node:child_process';
import { provisionDatabase } from '../src/database/database-provisioning';

async function main(): Promise<number> {
  const database = await provisionDatabase({ log: console.error, warn: console.error });
  try {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register', require.resolve('typeorm/cli.js'), ...process.argv.slice(2)],
      {
        stdio: 'inherit',
        env: { ...process.env, DATABASE_URL: database.url, TS_NODE_TRANSPILE_ONLY: 'true' },
      },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

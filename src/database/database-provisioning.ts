import type { LoggerService } from '@nestjs/common';
import { loadDatabaseConfig } from './config/database.config';
import { EmbeddedPostgresServer } from './embedded/embedded-postgres.server';

export type ProvisionedDatabase = {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
};

/**
 * Gives the process a PostgreSQL to talk to: DATABASE_URL when it is set (nothing embedded is
 * even loaded), otherwise the embedded cluster in the local data folder, started here and
 * stopped by the caller once the app has closed its pool.
 */
export async function provisionDatabase(
  logger: Pick<LoggerService, 'log' | 'warn'>,
): Promise<ProvisionedDatabase> {
  const config = loadDatabaseConfig();
  if (config.url) return { url: config.url, embedded: false, stop: async () => undefined };

  const startedAt = Date.now();
  const server = await EmbeddedPostgresServer.start({
    ...config.embedded,
    warn: (line: string) => {
      logger.warn(line);
    },
  });
  logger.log(
    `Embedded PostgreSQL ready in ${Date.now() - startedAt} ms on 127.0.0.1:${config.embedded.port} ` +
      `(data in ${config.embedded.dataDir}); set DATABASE_URL to use your own server`,
  );
  // Everything that reads the validated config from here on (AppModule, TypeORM) sees this server.
  process.env.DATABASE_URL = server.url;
  return { url: server.url, embedded: true, stop: () => server.stop() };
}

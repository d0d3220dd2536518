import 'dotenv/config';
import { INestApplication, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { Server } from 'node:http';
import { AppModule } from './app.module';
import { DrainingService } from './common/shutdown/draining.service';
import { configureApp, setupSwagger } from './app.setup';
import { AllConfigType } from './config/config.type';
import { loadAllConfig } from './config/load-all-config';
import { provisionDatabase, ProvisionedDatabase } from './database/database-provisioning';
import { nestLogLevels } from './utils/log-levels';

/** In-flight requests get this long to finish after SIGTERM before the process gives up. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Instead of `enableShutdownHooks()`, whose handler re-raises the signal (exit code 143) and
 * cannot order the embedded PostgreSQL's stop after the pool's: close the app (HTTP server,
 * in-flight requests, TypeORM pool), then the database, then exit 0.
 */
function stopOnSignals(app: INestApplication, database: ProvisionedDatabase, logger: Logger): void {
  const stop = async (signal: NodeJS.Signals) => {
    logger.log(`${signal} received: finishing in-flight requests, then stopping`);
    setTimeout(() => {
      logger.error(`Still busy after ${SHUTDOWN_GRACE_MS} ms; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.get(DrainingService).begin(app.getHttpServer() as Server);
    await app.close();
    await database.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, (s) => void stop(s));
}

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  // Validate the environment before starting anything, so a bad value stops us with its name.
  const { logLevel } = loadAllConfig().app;
  const database = await provisionDatabase((line) => logger.log(line));
  try {
    const app = await NestFactory.create(AppModule, {
      logger: nestLogLevels(logLevel),
      // Start-up messages wait for the JSON logger instead of going out in Nest's text format.
      bufferLogs: true,
      // Let a config or connection error reach our catch (and its message) instead of abort().
      abortOnError: false,
    });
    app.useLogger(app.get(PinoLogger));
    configureApp(app);
    setupSwagger(app);
    stopOnSignals(app, database, logger);
    const port = app.get(ConfigService<AllConfigType, true>).get('app.port', { infer: true });
    await app.listen(port);
    logger.log(`Listening on http://localhost:${port} (Swagger UI at /docs)`);
  } catch (error) {
    await database.stop();
    throw error;
  }
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

import 'dotenv/config';
import { INestApplication, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module';
import { DrainingService } from './common/shutdown/draining.service';
import { configureApp, createHttpAdapter, setupSwagger } from './app.setup';
import { AllConfigType } from './config/config.type';
import { loadAllConfig } from './config/load-all-config';
import { provisionDatabase, ProvisionedDatabase } from './database/database-provisioning';
import { NestPinoLogger } from './logging/nest-pino-logger';
import { createRootLogger } from './logging/root-logger';

/** In-flight requests get this long to finish after SIGTERM before the process gives up. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Instead of `enableShutdownHooks()`, whose handler re-raises the signal (exit code 143) and
 * cannot order the embedded PostgreSQL's stop after the pool's: close the app (HTTP server,
 * in-flight requests, TypeORM pool), then the database, then exit 0.
 */
function stopOnSignals(app: INestApplication, database: ProvisionedDatabase, logger: Logger): void {
  let stopping = false;
  const stop = async (reason: string) => {
    // A second signal (Ctrl-C pressed again) while stopping changes nothing.
    if (stopping) return;
    stopping = true;
    logger.log(`${reason}: finishing in-flight requests, then stopping`);
    setTimeout(() => {
      logger.error(`Still busy after ${SHUTDOWN_GRACE_MS} ms; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.get(DrainingService).begin(app.getHttpServer() as Server);
    await app.close();
    await database.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void stop(`${signal} received`));
  }
}

/** On every interface, as Node's own listen(port): IPv6 and IPv4, or IPv4 where IPv6 is off. */
async function listenEverywhere(app: NestFastifyApplication, port: number): Promise<void> {
  try {
    await app.listen(port, '::');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw error;
    await app.listen(port, '0.0.0.0');
  }
}

async function main(): Promise<void> {
  // Validate the environment before starting anything, so a bad value stops us with its name.
  const { logLevel, nodeEnv } = loadAllConfig().app;
  // Readable lines for a developer at a terminal; JSON lines for everything else (log shippers).
  const root = createRootLogger(logLevel, nodeEnv === 'development' && process.stdout.isTTY);
  // From the first message on.
  Logger.overrideLogger(new NestPinoLogger(root));
  return bootstrap(root);
}

async function bootstrap(root: PinoLogger): Promise<void> {
  const logger = new Logger('Bootstrap');
  const database = await provisionDatabase(logger);
  try {
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule,
      createHttpAdapter(root),
      {
        logger: new NestPinoLogger(root),
        // Let a config or connection error reach our catch (and its message) instead of abort().
        abortOnError: false,
      },
    );
    await configureApp(app);
    setupSwagger(app);
    stopOnSignals(app, database, logger);
    const port = app.get(ConfigService<AllConfigType, true>).get('app.port', { infer: true });
    await listenEverywhere(app, port);
    logger.log(`Listening on http://localhost:${port} (Swagger UI at /docs)`);
  } catch (error) {
    await database.stop();
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

import { Logger } from '@nestjs/common';
import cluster, { Worker } from 'node:cluster';
import { provisionDatabase } from '../database/database-provisioning';

/** Workers get this long to drain after SIGTERM (their own grace is 10 s). */
const SHUTDOWN_GRACE_MS = 15_000;

/**
 * The primary of APP_WORKERS > 1: it provisions the database (the embedded PostgreSQL when
 * DATABASE_URL is unset, whose URL the workers inherit), forks the workers that serve HTTP on the
 * shared port, replaces a worker that dies, and on SIGINT/SIGTERM stops the workers (each drains
 * its requests), then the database. A worker that dies before it ever listened stops everything:
 * start-up errors (configuration, database) would otherwise fork forever.
 */
export async function runClusterPrimary(workers: number): Promise<void> {
  const logger = new Logger('Cluster');
  const database = await provisionDatabase(logger);
  const listening = new WeakSet<Worker>();
  let stopping = false;
  let failed = false;

  const stopAll = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${reason}: stopping the workers`);
    setTimeout(() => {
      logger.error(`Workers still running after ${SHUTDOWN_GRACE_MS} ms; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) void finish();
  };
  const finish = async () => {
    await database.stop();
    process.exit(failed ? 1 : 0);
  };

  cluster.on('listening', (worker) => listening.add(worker));
  cluster.on('exit', (worker, code, signal) => {
    const how = signal ?? `code ${code}`;
    if (stopping) {
      if (code !== 0) failed = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) void finish();
      return;
    }
    if (!listening.has(worker)) {
      failed = true;
      stopAll(`Worker ${worker.process.pid} exited (${how}) before it served`);
      return;
    }
    logger.error(`Worker ${worker.process.pid} exited (${how}); starting another`);
    cluster.fork();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => stopAll(`${signal} received`));
  }
  for (let i = 0; i < workers; i++) cluster.fork();
  logger.log(`Started ${workers} workers`);
}

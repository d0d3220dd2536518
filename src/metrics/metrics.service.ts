import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AllConfigType } from '../config/config.type';
import { hashSecret, sameHash } from '../devices/credentials/secret-hash';

/**
 * The Prometheus metrics (prom-client), in a registry of this app's own. Labels carry routes,
 * methods, statuses and outcomes only, never an id: their number stays bounded. Without a
 * METRICS_TOKEN nothing is served, and neither the per-request timing nor the process metrics
 * run (the sync counters still add up: a few additions per request).
 */
@Injectable()
export class MetricsService {
  readonly enabled: boolean;
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly recordsPulled = new Counter({
    name: 'sync_records_pulled_total',
    help: 'Records (live and deleted) answered by pulls',
    registers: [this.registry],
  });

  readonly recordsPushed = new Counter({
    name: 'sync_records_pushed_total',
    help: 'Records of the pushes applied',
    registers: [this.registry],
  });

  readonly pushes = new Counter({
    name: 'sync_pushes_total',
    help: 'Pushes by outcome: 200 applied; 400, 409, 413, 422 refused; any other status',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly replacementPulls = new Counter({
    name: 'sync_replacement_pulls_total',
    help: 'Pulls answered with every live record because deletions after them were purged',
    registers: [this.registry],
  });

  readonly purgedTombstones = new Counter({
    name: 'sync_tombstones_purged_total',
    help: 'Tombstones deleted by the purge on this instance',
    registers: [this.registry],
  });

  private readonly tokenHash?: Buffer;

  constructor(config: ConfigService<AllConfigType, true>, dataSource: DataSource) {
    const token = config.get('app.metricsToken', { infer: true });
    this.enabled = token !== undefined;
    if (token !== undefined) this.tokenHash = hashSecret(token);
    if (!this.enabled) return;
    collectDefaultMetrics({ register: this.registry });
    const pool = () => (dataSource.driver as PostgresDriver).master as Pool | undefined;
    new Gauge({
      name: 'db_pool_connections',
      help: "The database pool's connections: total, idle, and requests waiting for one",
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const current = pool();
        this.set({ state: 'total' }, current?.totalCount ?? 0);
        this.set({ state: 'idle' }, current?.idleCount ?? 0);
        this.set({ state: 'waiting' }, current?.waitingCount ?? 0);
      },
    });
  }

  /** A gauge read when scraped (e.g. the open event streams, counted by their service). */
  gauge(name: string, help: string, read: () => number): void {
    if (!this.enabled) return;
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Whether `authorization` is `Bearer <METRICS_TOKEN>` (compared in constant time). */
  authorized(authorization: string | undefined): boolean {
    const [scheme, token] = (authorization ?? '').split(' ');
    return scheme === 'Bearer' && !!token && sameHash(this.tokenHash, hashSecret(token));
  }
}

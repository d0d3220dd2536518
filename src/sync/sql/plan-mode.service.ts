import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AllConfigType } from '../../config/config.type';
import { SYNC_TABLE_NAMES } from '../registry/sync-tables';
import { KeyLookup } from './keyed-rows';

/** How often the statistics are looked at until they are there (then never again). */
const STATS_CHECK_MS = 5_000;

/**
 * Below this many rows a table's plans scan it whole (cheaper than an index there), and a plan
 * made then would keep scanning it as it grows, until the next ANALYZE. From here on, an index
 * probe is cheaper by far and stays so as the table grows.
 */
export const GENERIC_PLANS_MIN_ROWS = 10_000;

/**
 * Every sync table has statistics (ANALYZE ran on it) that show at least $2 rows and at least
 * two rows per device: a lookup of one key then costs least on the index holding it.
 */
const STATS_READY_SQL = `
  SELECT count(*) = cardinality($1::text[])
     AND bool_and(c.reltuples >= $2
                  AND c.reltuples >= 2 * CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * c.reltuples
                                              ELSE s.n_distinct END) AS "ready"
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
  JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
                 AND s.attname = 'device_id' AND NOT s.inherited
  WHERE c.relname = ANY($1::text[]) AND c.relkind = 'r'`;

/**
 * Decides how PostgreSQL plans the prepared sync statements on the app's connections.
 *
 * By default PostgreSQL plans a prepared statement anew on every call unless its generic plan
 * (made once, without the parameters) looks no dearer, and for the push and pull it rarely does:
 * on the benchmark's database planning took 0.4-0.7 ms a statement against 0.1-0.4 ms of running
 * it. A generic plan is only as good as the statistics it was made from, though: on a new
 * database, before autovacuum's first ANALYZE, every index of a table costs the same, and one
 * made there can walk all of a device's rows for every key of a 5,000-record push; on a small
 * table, one scans the whole table, and keeps doing so as the table grows.
 *
 * So the connections keep the default until every sync table has statistics of a real size
 * (checked every few seconds until then), then use generic plans (`plan_cache_mode`), while the
 * statements look rows up one key at a time ('probe', see keyed-rows.ts): with statistics, the
 * index that holds the key is the cheapest path whatever the parameters. Each later ANALYZE makes
 * PostgreSQL plan them again. The switch is one way, for the life of the process.
 */
@Injectable()
export class PlanModeService implements OnApplicationBootstrap, OnModuleDestroy {
  private generic = false;
  private timer?: NodeJS.Timeout;
  /** Connections already switched to generic plans. */
  private readonly switched = new WeakSet<PoolClient>();
  private readonly logger = new Logger(PlanModeService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: ConfigService<AllConfigType, true>,
  ) {}

  /**
   * The shape of the lookups by id for statements run on `client`: 'probe' once the connection
   * was switched to generic plans (as it left the pool), else 'any'. Asked per connection, not
   * of the current mode, so that a request that got its connection just before the switch keeps
   * the shape its plans are made for.
   */
  lookupFor(client: PoolClient): KeyLookup {
    return this.switched.has(client) ? 'probe' : 'any';
  }

  onApplicationBootstrap(): void {
    if (!this.config.getOrThrow('database.genericPlans', { infer: true })) return;
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    pool.on('acquire', (client) => this.onAcquire(client));
    const check = () =>
      void this.check().catch((error: Error) =>
        this.logger.warn(`could not read the sync tables’ statistics: ${error.message}`),
      );
    this.timer = setInterval(check, STATS_CHECK_MS);
    this.timer.unref();
    check();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * Looks at the statistics now and switches when they are there; true once switched. (The
   * timer calls it; so can a test, right after its ANALYZE.)
   */
  async check(): Promise<boolean> {
    if (this.generic || !this.timer) return this.generic;
    const [{ ready }] = await this.dataSource.query<Array<{ ready: boolean | null }>>(
      STATS_READY_SQL,
      [SYNC_TABLE_NAMES, GENERIC_PLANS_MIN_ROWS],
    );
    if (ready && !this.generic) {
      this.generic = true;
      clearInterval(this.timer);
      this.logger.log('every sync table has statistics: the sync statements use generic plans');
    }
    return this.generic;
  }

  /**
   * Switches a connection as it leaves the pool. node-postgres runs a connection's queries in
   * the order they were sent, so the SET runs before anything its new holder sends.
   */
  private onAcquire(client: PoolClient): void {
    if (!this.generic || this.switched.has(client)) return;
    this.switched.add(client);
    client.query('SET plan_cache_mode = force_generic_plan').catch((error: Error) => {
      // A broken connection: its holder's own query fails the same way and says so.
      this.logger.warn(`could not switch a connection to generic plans: ${error.message}`);
    });
  }
}

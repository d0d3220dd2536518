import { Readable } from 'node:stream';
import { QueryRunner } from 'typeorm';
import { queryEachRow } from '../sql/query-each-row';
import { queryPrepared } from '../sql/query-prepared';
import { SYNC_TABLES, wireColumns } from '../registry/sync-tables';
import { q } from '../sql/quote';
import { PullBody } from './pull-body';

/**
 * The account clock and the newest stamp purged from the account, read as the pull transaction's
 * first statement (which takes its snapshot).
 */
const CLOCK_SQL = `SELECT "last_stamp", "purged_stamp" FROM "accounts" WHERE "id" = $1`;

/**
 * The pull's rows, one per piece of the response: for table i (registry order), section 2i holds
 * its live rows changed since, one JSON object each, and section 2i+1 the ids of its tombstones
 * (none when read from 0). Parameters: $1 the account, then one "since" stamp per table. Live rows
 * go in `updated` (never `created`: the client may hold them already).
 *
 * Rows rather than one json_agg value: node-postgres would hold a 15 MB value in a receive
 * buffer grown by doubling, then as a string, then as the response's bytes (3-4x the response);
 * rows arrive as small messages and are packed straight into the response's chunks, which go out
 * as they fill. The sections arrive in the order written: PostgreSQL's Append (UNION ALL) runs
 * its children one after another (parallel query is off on the app's connections).
 */
function pullSql(): string {
  return SYNC_TABLES.flatMap((table, i) => {
    const since = `$${i + 2}::int8`;
    const fields = wireColumns(table)
      .map((c) => `'${c}', ${q(c)}`)
      .join(', ');
    const from = `FROM ${q(table.name)} WHERE "account_id" = $1 AND "stamp" > ${since}`;
    return [
      `SELECT ${2 * i} AS "section", json_build_object(${fields})::text AS "json" ${from} AND "deleted_at" IS NULL`,
      `SELECT ${2 * i + 1}, to_json("id")::text ${from} AND "deleted_at" IS NOT NULL AND ${since} > 0`,
    ];
  }).join('\nUNION ALL\n');
}

const PULL_SQL = pullSql();

/**
 * The body as it is sent: whole when it fitted in one chunk (sent with its Content-Length), else
 * a stream that gets each chunk as PostgreSQL's rows fill it.
 */
export type PullBodyOut = { kind: 'whole'; chunk: Buffer } | { kind: 'stream'; stream: Readable };

/**
 * The pull statement's rows turned into the response as they arrive. `body` settles when a second
 * chunk is full (a stream, which gets the rest of the chunks as they come, whatever the client's
 * pace: the pool's connection is never held for a slow phone) or when the pull ended (whole).
 */
export class PullReading {
  readonly body: Promise<PullBodyOut>;
  private resolveBody!: (body: PullBodyOut) => void;
  private rejectBody!: (error: unknown) => void;
  private readonly writer: PullBody;
  /** Ended or failed: no more rows are written. */
  private over = false;
  private first?: Buffer;
  private stream?: Readable;

  constructor(tables: readonly string[]) {
    this.body = new Promise((resolve, reject) => {
      this.resolveBody = resolve;
      this.rejectBody = reject;
    });
    this.writer = new PullBody(tables, (chunk) => this.emit(chunk));
  }

  get records(): number {
    return this.writer.records;
  }

  /** One row of the statement: `[section, json]`. */
  row([section, json]: [number, string]): void {
    if (this.over) return;
    try {
      this.writer.add(section, json);
    } catch (error) {
      // Thrown here it would break the driver's connection: the rows still to come are dropped.
      this.fail(error);
    }
  }

  /**
   * The pull is over: the rest of the body is written with the clock as `timestamp`, and
   * `experimentalStrategy: 'replacement'` when the body holds every live record in place of the
   * changes (see SyncService.pull).
   */
  end(timestamp: number, replacement: boolean): void {
    if (this.over) return;
    this.over = true;
    this.writer.finish(timestamp, replacement);
    if (this.stream) this.stream.push(null);
    else this.resolveBody({ kind: 'whole', chunk: this.first! });
  }

  /**
   * The pull failed: a body not yet decided fails with the error (an answer as usual); a
   * streamed one is broken off, so the client never takes a partial pull for a whole one. True
   * when it broke off a body that had started going out.
   */
  fail(error: unknown): boolean {
    if (this.over) return false;
    this.over = true;
    this.rejectBody(error);
    if (!this.stream) return false;
    this.stream.destroy(error instanceof Error ? error : new Error('the pull failed'));
    return true;
  }

  private emit(chunk: Buffer): void {
    if (this.stream) {
      if (!this.stream.destroyed) this.stream.push(chunk);
      return;
    }
    if (!this.first) {
      this.first = chunk;
      return;
    }
    // A second chunk: the body goes out as a stream, the first two chunks in it already.
    this.stream = new Readable({ read: () => undefined });
    this.stream.push(this.first);
    this.stream.push(chunk);
    this.first = undefined;
    this.resolveBody({ kind: 'stream', stream: this.stream });
  }
}

/**
 * The account clock (epoch ms), which a pull answers as `timestamp`, and the newest stamp of the
 * tombstones purged from the account.
 */
export async function readClock(
  runner: QueryRunner,
  accountId: string,
): Promise<{ timestamp: number; purgedStamp: number }> {
  const [row] = await queryPrepared<{ last_stamp: string; purged_stamp: string }>(
    runner,
    'sync_clock',
    CLOCK_SQL,
    [accountId],
  );
  return { timestamp: Number(row.last_stamp), purgedStamp: Number(row.purged_stamp) };
}

/**
 * Runs the pull statement for `accountId` on the runner's connection, feeding `reading` its rows.
 * `sinceByTable` maps a table name to the stamp to read from (0: every live row).
 */
export function readPull(
  runner: QueryRunner,
  accountId: string,
  sinceByTable: Map<string, number>,
  reading: PullReading,
): Promise<void> {
  return queryEachRow<[number, string]>(
    runner,
    'sync_pull',
    PULL_SQL,
    [accountId, ...SYNC_TABLES.map((table) => sinceByTable.get(table.name) ?? 0)],
    (row) => reading.row(row),
  );
}

import { Readable } from 'node:stream';
import { QueryRunner } from 'typeorm';
import { queryEachRow } from '../sql/query-each-row';
import { SYNC_TABLES, SyncTable, wireColumns } from '../registry/sync-tables';
import { q } from '../sql/quote';
import { PullBody } from './pull-body';

/**
 * The pull as one statement (so one snapshot) returning one row per piece of the response:
 * part 0 is the device clock and last_seen_at, then for table i (registry order) part 2i+1 holds
 * its live rows changed since, one JSON object each, and part 2i+2 the ids of its tombstones (none
 * when read from 0). Parameters: $1 the device, then one "since" stamp per table. Live rows go in
 * `updated` (never `created`: the client may hold them already).
 *
 * Rows rather than one json_agg value: node-postgres would hold a 15 MB value in a receive
 * buffer grown by doubling, then as a string, then as the response's bytes (3-4x the response);
 * rows arrive as small messages and are packed straight into the response's chunks, which go out
 * as they fill. The parts arrive in the order written: PostgreSQL's Append (UNION ALL) runs its
 * children one after another (parallel query is off on the app's connections), so part 0 first.
 */
function pullSql(): string {
  // Part 0 is also the device check: no row when the device is gone or revoked.
  const parts = [
    `SELECT 0 AS "part", json_build_array("last_stamp", "last_seen_at")::text AS "json"
     FROM "devices" WHERE "id" = $1 AND "revoked_at" IS NULL`,
  ];
  SYNC_TABLES.forEach((table: SyncTable, i) => {
    const since = `$${i + 2}::int8`;
    const fields = wireColumns(table)
      .map((c) => `'${c}', ${q(c)}`)
      .join(', ');
    const from = `FROM ${q(table.name)} WHERE "device_id" = $1 AND "stamp" > ${since}`;
    parts.push(
      `SELECT ${2 * i + 1}, json_build_object(${fields})::text ${from} AND "deleted_at" IS NULL`,
      `SELECT ${2 * i + 2}, to_json("id")::text ${from} AND "deleted_at" IS NOT NULL AND ${since} > 0`,
    );
  });
  return parts.join('\nUNION ALL\n');
}

export const PULL_SQL = pullSql();

/** Part 0: the device clock and last_seen_at; null when the device is gone or revoked. */
export type PullHead = { timestamp: number; lastSeenAt: Date | null } | null;

/**
 * The body as it is sent: whole when it fitted in one chunk (sent with its Content-Length), else
 * a stream that gets each chunk as PostgreSQL's rows fill it.
 */
export type PullBodyOut = { kind: 'whole'; chunk: Buffer } | { kind: 'stream'; stream: Readable };

/**
 * The pull statement's rows turned into the response as they arrive. `head` settles at the first
 * row (part 0, or the device is refused), `body` when a second chunk is full or the statement
 * ended. Once it is a stream, the rest of the chunks go into it as they come, whatever the
 * client's pace: the pool's connection is free as soon as the statement ends, never held for a
 * slow phone (its chunks wait in memory instead, as a whole body would).
 */
export class PullReading {
  readonly head: Promise<PullHead>;
  readonly body: Promise<PullBodyOut>;
  private resolveHead!: (head: PullHead) => void;
  private resolveBody!: (body: PullBodyOut) => void;
  private rejectHead!: (error: unknown) => void;
  private rejectBody!: (error: unknown) => void;
  private readonly writer: PullBody;
  /**
   * Where the statement is: before its first row (part 0), in the body's rows, or over (ended,
   * failed, or the device refused: no more rows are written).
   */
  private phase: 'head' | 'body' | 'over' = 'head';
  private timestamp = 0;
  private first?: Buffer;
  private stream?: Readable;

  constructor(tables: readonly string[]) {
    this.head = new Promise((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.body = new Promise((resolve, reject) => {
      this.resolveBody = resolve;
      this.rejectBody = reject;
    });
    // Whoever awaits them handles their errors; neither is awaited when the pull is refused.
    this.head.catch(() => undefined);
    this.body.catch(() => undefined);
    this.writer = new PullBody(tables, (chunk) => this.emit(chunk));
  }

  get records(): number {
    return this.writer.records;
  }

  /** One row of the statement: `[part, json]`. */
  row([part, json]: [number, string]): void {
    if (this.phase === 'over') return;
    if (this.phase === 'head') {
      if (part !== 0) {
        this.phase = 'over';
        this.resolveHead(null);
        return;
      }
      this.phase = 'body';
      const [timestamp, seen] = JSON.parse(json) as [number, string | null];
      this.timestamp = timestamp;
      this.resolveHead({ timestamp, lastSeenAt: seen === null ? null : new Date(seen) });
      return;
    }
    try {
      this.writer.add(part - 1, json);
    } catch (error) {
      // Thrown here it would break the driver's connection: the rows still to come are dropped.
      this.fail(error);
    }
  }

  /** The statement ended: the rest of the body is written (a stream is ended by `complete`). */
  end(): void {
    const phase = this.phase;
    this.phase = 'over';
    // No row at all: the device is gone or revoked.
    if (phase === 'head') this.resolveHead(null);
    if (phase !== 'body') return;
    this.writer.finish(this.timestamp);
    if (!this.stream) this.resolveBody({ kind: 'whole', chunk: this.first! });
  }

  /**
   * Ends a streamed body (after the work that follows the read), or breaks it off. True when it
   * broke off a body that had started going out.
   */
  complete(error?: Error): boolean {
    if (!this.stream || this.stream.destroyed) return false;
    if (!error) {
      this.stream.push(null);
      return false;
    }
    this.stream.destroy(error);
    return true;
  }

  /** The statement failed: whatever is still to be answered fails with it. */
  fail(error: unknown): void {
    this.phase = 'over';
    this.rejectHead(error);
    this.rejectBody(error);
    this.complete(error instanceof Error ? error : new Error('the pull statement failed'));
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
 * Runs the pull statement for `deviceId` on the runner's connection, feeding `reading`.
 * `sinceByTable` maps a table name to the stamp to read from (0: every live row). Resolves when
 * the statement ended; `reading` has its errors too.
 */
export async function readPull(
  runner: QueryRunner,
  deviceId: string,
  sinceByTable: Map<string, number>,
  reading: PullReading,
): Promise<void> {
  try {
    await queryEachRow<[number, string]>(
      runner,
      'sync_pull',
      PULL_SQL,
      [deviceId, ...SYNC_TABLES.map((table) => sinceByTable.get(table.name) ?? 0)],
      (row) => reading.row(row),
    );
  } catch (error) {
    reading.fail(error);
    throw error;
  }
  reading.end();
}

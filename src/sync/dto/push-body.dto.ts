import { ApiProperty } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import { SYNC_TABLES, SyncTable, syncTable } from '../registry/sync-tables';
import { SyncChangesDto } from './sync-changes.dto';

/** A table's example record: its column examples, parent links at the parents' example records. */
function exampleRecord(table: SyncTable): Record<string, unknown> {
  const record: Record<string, unknown> = { id: table.exampleId };
  for (const [name, column] of Object.entries(table.columns)) {
    const parent = table.parents[name];
    record[name] = parent ? syncTable(parent)?.exampleId : column.example;
  }
  return record;
}

/**
 * A push that succeeds as-is for any registered device, and again when replayed (same values):
 * one record of every registry table, the first with WatermelonDB's `_status` and `_changed` (the
 * server ignores them). Change a value and send it again with the same last_pulled_at to see a
 * 409.
 */
const EXAMPLE = {
  changes: Object.fromEntries(
    SYNC_TABLES.map((table, i) => {
      const record = exampleRecord(table);
      const created = [i === 0 ? { ...record, _status: 'created', _changed: '' } : record];
      return [table.name, { created, updated: [], deleted: [] }];
    }),
  ),
  // Any time at or before the device's registration works for new records.
  last_pulled_at: 1764115200000,
};

/**
 * The push body. Its whole validation (every table, record and column) is done by PushBodyPipe
 * from the table registry, so one 400 lists every offending path; `@Allow` only keeps the
 * global whitelist from stripping the fields.
 */
export class PushBodyDto {
  @ApiProperty({
    type: SyncChangesDto,
    example: EXAMPLE.changes,
    description: 'Missing tables or arrays count as empty',
  })
  @Allow()
  changes!: Record<string, unknown>;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 1,
    example: EXAMPLE.last_pulled_at,
    description: 'The `timestamp` of the pull this push follows',
  })
  @Allow()
  last_pulled_at!: number;
}

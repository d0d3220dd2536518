import { Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import {
  ID_MAX_LENGTH,
  ID_PATTERN,
  INT32_MAX,
  INT32_MIN,
  MS_MAX,
  MS_MIN,
  SyncColumn,
} from '../registry/sync-column';
import { SYNC_TABLES, SyncTable } from '../registry/sync-tables';

/**
 * OpenAPI schemas of the synced records, built from the table registry so that the
 * documentation and the push validation (validate-push-changes.ts) read the same limits.
 */
function columnSchema(column: SyncColumn): ApiPropertyOptions {
  const common = {
    nullable: column.nullable,
    example: column.example,
    description: column.description,
    required: true,
  };
  switch (column.kind) {
    case 'id':
      return { ...common, type: 'string', pattern: ID_PATTERN.source, maxLength: ID_MAX_LENGTH };
    case 'string':
      return { ...common, type: 'string', maxLength: column.maxLength };
    case 'int':
      return {
        ...common,
        type: 'integer',
        format: 'int32',
        minimum: INT32_MIN,
        maximum: INT32_MAX,
      };
    case 'ms':
      return { ...common, type: 'integer', format: 'int64', minimum: MS_MIN, maximum: MS_MAX };
  }
}

/** `@ApiProperty(options)` on a property of a class made at run time. */
function property(dto: Type<unknown>, name: string, options: ApiPropertyOptions): void {
  ApiProperty(options)(dto.prototype as object, name);
}

function namedClass(name: string): Type<unknown> {
  const cls = class {};
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

function recordDto(table: SyncTable): Type<unknown> {
  const dto = namedClass(`${table.recordName}Record`);
  const id: SyncColumn = {
    kind: 'id',
    nullable: false,
    example: `${table.recordName.toLowerCase()}-1`,
  };
  property(dto, 'id', { ...columnSchema(id), description: "The client's WatermelonDB id" });
  for (const [name, column] of Object.entries(table.columns))
    property(dto, name, columnSchema(column));
  return dto;
}

function changesDto(table: SyncTable): Type<unknown> {
  const record = recordDto(table);
  const dto = namedClass(`${table.recordName}sChanges`);
  property(dto, 'created', {
    type: record,
    isArray: true,
    description: 'Always empty in a pull (see `updated`)',
  });
  property(dto, 'updated', {
    type: record,
    isArray: true,
    description: 'Live records, every column',
  });
  property(dto, 'deleted', {
    type: 'string',
    isArray: true,
    items: { type: 'string', pattern: ID_PATTERN.source },
    description: 'Ids of deleted records',
  });
  return dto;
}

/** `{ games: GamesChanges, game_players: GamePlayersChanges, ... }` */
export const SyncChangesDto = namedClass('SyncChanges');
for (const table of SYNC_TABLES) property(SyncChangesDto, table.name, { type: changesDto(table) });

import { ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

/** '' and 'null' mean "absent"; digits become a number; anything else is left to fail validation. */
function toOptionalInt({ value }: { value: unknown }): unknown {
  if (value === '' || value === 'null') return undefined;
  return typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
}

export class MigrationColumnsDto {
  @IsString()
  @MaxLength(64)
  table!: string;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  columns!: string[];
}

/** WatermelonDB's migration sync info: `{ from, tables, columns }`. */
export class MigrationDto {
  @IsInt()
  @Min(1)
  from!: number;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  tables!: string[];

  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => MigrationColumnsDto)
  columns!: MigrationColumnsDto[];
}

function toMigration({ value }: { value: unknown }): unknown {
  if (value === undefined || value === '' || value === 'null') return undefined;
  if (typeof value !== 'string') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed === null) return undefined;
    return typeof parsed === 'object' && !Array.isArray(parsed)
      ? plainToInstance(MigrationDto, parsed)
      : parsed;
  } catch {
    return value;
  }
}

export class PullQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    nullable: true,
    example: 0,
    description:
      'The `timestamp` of the previous pull; absent, empty, 0 or `null` for a first sync',
  })
  @Transform(toOptionalInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  last_pulled_at?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    example: 1,
    description: "The client's schema version",
  })
  @Transform(toOptionalInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  schema_version?: number;

  @ApiPropertyOptional({
    type: 'string',
    example: 'null',
    description:
      'WatermelonDB migration info as JSON: `{"from":1,"tables":["rounds"],"columns":[{"table":"games","columns":["ended_at"]}]}`, or `null`',
  })
  @Transform(toMigration)
  @IsOptional()
  @IsObject({ message: 'migration must be null or a JSON object {"from", "tables", "columns"}' })
  @ValidateNested()
  migration?: MigrationDto;
}

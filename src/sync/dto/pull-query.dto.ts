import { ApiPropertyOptional } from '@nestjs/swagger';

/** The pull's query parameters as the OpenAPI document shows them; PullQueryPipe checks them. */
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
  last_pulled_at?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    example: 1,
    description: "The client's schema version",
  })
  schema_version?: number;

  @ApiPropertyOptional({
    type: 'string',
    example: 'null',
    description:
      'WatermelonDB migration info as JSON: `{"from":1,"tables":["rounds"],"columns":[{"table":"games","columns":["ended_at"]}]}`, or `null`',
  })
  migration?: string;
}

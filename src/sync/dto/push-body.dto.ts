import { ApiProperty } from '@nestjs/swagger';
import { Allow } from 'class-validator';

/**
 * The push body as documented. Validation of the whole body (every table, record and column)
 * is done by PushBodyPipe from the table registry, so that one 400 lists every offending path.
 */
export class PushBodyDto {
  @ApiProperty({
    description: 'Per table: `created` and `updated` records (all columns) and `deleted` ids',
    type: 'object',
    additionalProperties: true,
  })
  @Allow()
  changes!: Record<string, unknown>;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 1,
    description: 'The `timestamp` of the pull this push follows',
  })
  @Allow()
  last_pulled_at!: number;
}

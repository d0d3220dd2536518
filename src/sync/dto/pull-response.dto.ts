import { ApiProperty } from '@nestjs/swagger';

export class PullResponseDto {
  @ApiProperty({
    description: 'All four tables, each with `created` (always empty), `updated` and `deleted`',
    type: 'object',
    additionalProperties: true,
  })
  changes!: Record<string, unknown>;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'Pass back as last_pulled_at' })
  timestamp!: number;
}

import { ApiProperty } from '@nestjs/swagger';
import { SyncChangesDto } from './sync-changes.dto';

export class PullResponseDto {
  @ApiProperty({
    type: SyncChangesDto,
    description: 'All four tables, each with created (always empty), updated and deleted',
  })
  changes!: Record<string, unknown>;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 1,
    example: 1764115260000,
    description:
      'Pass back as last_pulled_at (of the next pull, and of the push that follows this pull)',
  })
  timestamp!: number;
}

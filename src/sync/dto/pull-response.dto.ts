import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SyncChangesDto } from './sync-changes.dto';

export class PullResponseDto {
  @ApiProperty({
    type: SyncChangesDto,
    description: 'Every synced table, each with created (always empty), updated and deleted',
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

  @ApiPropertyOptional({
    enum: ['replacement'],
    description:
      'Only when deletions newer than last_pulled_at were purged from the server: `changes` ' +
      'then holds every live record, and WatermelonDB drops the local records it does not list ' +
      '(keeping local records created since the last sync). Absent otherwise, and on a first pull.',
  })
  experimentalStrategy?: 'replacement';
}

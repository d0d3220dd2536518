import { ApiProperty } from '@nestjs/swagger';
import { ErrorResponseDto } from '../../common/dto/error-response.dto';

export class TableRefDto {
  @ApiProperty({ example: 'games' })
  table!: string;

  @ApiProperty({ example: 'game-1' })
  id!: string;
}

export class OrphanDto extends TableRefDto {
  @ApiProperty({ description: 'The parent link that points nowhere', example: 'game_id' })
  column!: string;

  @ApiProperty({ example: 'no-such-game' })
  parent_id!: string;
}

export class ConflictResponseDto extends ErrorResponseDto {
  @ApiProperty({
    type: [TableRefDto],
    description: 'Records changed on the server after last_pulled_at',
  })
  conflicts!: TableRefDto[];
}

export class UnprocessableResponseDto extends ErrorResponseDto {
  @ApiProperty({ type: [OrphanDto], description: 'Records whose parent the device never had' })
  orphans!: OrphanDto[];
}

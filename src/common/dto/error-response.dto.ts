import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The one error shape of the API (AllExceptionsFilter). */
export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 400 })
  statusCode!: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'Human-readable; for validation, one entry per offending path',
    example: ['changes.scores.created[3].raw_score must be a 32-bit integer'],
  })
  message!: string | string[];

  @ApiPropertyOptional({ example: 'Bad Request' })
  error?: string;
}

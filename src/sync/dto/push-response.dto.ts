import { ApiProperty } from '@nestjs/swagger';

export class PushResponseDto {
  @ApiProperty({ enum: [true], example: true })
  ok!: true;
}

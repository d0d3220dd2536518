import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class RefreshSessionDto {
  @ApiProperty({
    description: 'The refresh_token of the last registration or refresh',
    maxLength: 256,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  refresh_token!: string;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class RegisterDeviceDto {
  @ApiPropertyOptional({ example: "Ana's phone", maxLength: 100, nullable: true, type: String })
  @IsString()
  @MaxLength(100)
  @IsOptional()
  name?: string | null;

  @ApiPropertyOptional({ example: 'ios', maxLength: 32, nullable: true, type: String })
  @IsString()
  @MaxLength(32)
  @IsOptional()
  platform?: string | null;
}

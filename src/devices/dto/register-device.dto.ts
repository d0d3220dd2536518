import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsOptional,
  IsString,
  MaxLength,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';

/** A code as typed, with room for spaces and dashes; longer than any code is never one. */
const CODE_MAX_LENGTH = 64;

@ValidatorConstraint({ name: 'oneCodeAtMost' })
class OneCodeAtMost implements ValidatorConstraintInterface {
  validate(_value: unknown, { object }: ValidationArguments): boolean {
    const dto = object as RegisterDeviceDto;
    return dto.pairing_code == null || dto.recovery_code == null;
  }

  defaultMessage(): string {
    return 'give pairing_code or recovery_code, not both';
  }
}

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

  @ApiPropertyOptional({
    type: String,
    maxLength: CODE_MAX_LENGTH,
    description:
      'Join the account of the device that made this code (POST /devices/pairing-codes). ' +
      'Any case; spaces and dashes are ignored. Without a code, the device gets a new account.',
  })
  @IsString()
  @MaxLength(CODE_MAX_LENGTH)
  @IsOptional()
  pairing_code?: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: CODE_MAX_LENGTH,
    description:
      'Join (restore) the account whose recovery code this is (POST /account/recovery-code).',
  })
  @IsString()
  @MaxLength(CODE_MAX_LENGTH)
  @Validate(OneCodeAtMost)
  @IsOptional()
  recovery_code?: string;
}

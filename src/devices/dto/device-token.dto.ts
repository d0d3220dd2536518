import { ApiProperty } from '@nestjs/swagger';

export class DeviceTokenDto {
  @ApiProperty({ format: 'uuid', example: '5f0c6f9e-3b1a-4a53-9a64-6f0e0b7d2c11' })
  device_id!: string;

  @ApiProperty({ description: 'Send as `Authorization: Bearer <access_token>`' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Lifetime of the token in seconds', example: 2592000 })
  expires_in!: number;
}

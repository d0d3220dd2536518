import { ApiProperty } from '@nestjs/swagger';

export class DeviceTokenDto {
  @ApiProperty({ format: 'uuid', example: '5f0c6f9e-3b1a-4a53-9a64-6f0e0b7d2c11' })
  device_id!: string;

  @ApiProperty({
    format: 'uuid',
    example: '0b8e4d2a-6c1f-4f7e-8a59-2d3c4b5a6e7f',
    description: 'The account whose data the device syncs (shared by its paired devices)',
  })
  account_id!: string;

  @ApiProperty({ description: 'Send as `Authorization: Bearer <access_token>`' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Lifetime of the access token in seconds', example: 3600 })
  expires_in!: number;

  @ApiProperty({
    example: 'mF3k9Qx2...',
    description:
      'Keep it in secure storage: POST /devices/token exchanges it for a new access token and a ' +
      'new refresh token (each use replaces it). Presenting a replaced one signs the device out.',
  })
  refresh_token!: string;
}

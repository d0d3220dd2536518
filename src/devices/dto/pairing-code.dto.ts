import { ApiProperty } from '@nestjs/swagger';

export class PairingCodeDto {
  @ApiProperty({
    example: '7KQ2-MXW9-DA4T',
    description:
      'Type it on the new install (register with pairing_code). Works once, for 10 minutes.',
  })
  code!: string;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    example: 1796580600000,
    description: 'Epoch ms',
  })
  expires_at!: number;
}

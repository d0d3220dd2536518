import { ApiProperty } from '@nestjs/swagger';

export class RecoveryCodeDto {
  @ApiProperty({
    example: 'Q3M8-ZK1V-7T4X-W2N9-RD6P-HJ5C-0A7E',
    description:
      'Shown once: the user keeps it to restore the account on a new phone (register with ' +
      'recovery_code). Asking again replaces it. It does not expire.',
  })
  recovery_code!: string;
}

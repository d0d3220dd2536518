import { ApiProperty } from '@nestjs/swagger';
import { DeviceEntity } from '../entities/device.entity';

/** A live device of the caller's account. */
export class AccountDeviceDto {
  @ApiProperty({ format: 'uuid' })
  device_id!: string;

  @ApiProperty({ type: String, nullable: true, maxLength: 100, example: "Ana's tablet" })
  name!: string | null;

  @ApiProperty({ type: String, nullable: true, maxLength: 32, example: 'android' })
  platform!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_seen_at!: string | null;

  @ApiProperty({ description: 'This is the device making the request' })
  current!: boolean;

  static fromEntity(device: DeviceEntity, currentId: string): AccountDeviceDto {
    return Object.assign(new AccountDeviceDto(), {
      device_id: device.id,
      name: device.name,
      platform: device.platform,
      created_at: device.createdAt.toISOString(),
      last_seen_at: device.lastSeenAt?.toISOString() ?? null,
      current: device.id === currentId,
    });
  }
}

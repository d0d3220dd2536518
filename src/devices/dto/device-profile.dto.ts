import { ApiProperty } from '@nestjs/swagger';
import { DeviceEntity } from '../entities/device.entity';

export class DeviceProfileDto {
  @ApiProperty({ format: 'uuid' })
  device_id!: string;

  @ApiProperty({ format: 'uuid' })
  account_id!: string;

  @ApiProperty({ type: String, nullable: true, maxLength: 100 })
  name!: string | null;

  @ApiProperty({ type: String, nullable: true, maxLength: 32 })
  platform!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_seen_at!: string | null;

  static fromEntity(device: DeviceEntity): DeviceProfileDto {
    return Object.assign(new DeviceProfileDto(), {
      device_id: device.id,
      account_id: device.accountId,
      name: device.name,
      platform: device.platform,
      created_at: device.createdAt.toISOString(),
      last_seen_at: device.lastSeenAt?.toISOString() ?? null,
    });
  }
}

import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { DeviceEntity } from './device.entity';

/**
 * A refresh token a device was given (its SHA-256, never the token). The device's current token
 * is the one not replaced yet; older ones are kept so that one presented again is recognised as a
 * copy (DeviceSessionsService).
 */
@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'bytea' })
  tokenHash!: Buffer;

  @Index()
  @Column({ type: 'uuid' })
  deviceId!: string;

  @ManyToOne(() => DeviceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id' })
  device?: DeviceEntity;

  /** The token this one replaced, accepted again as long as this one was never presented. */
  @Column({ type: 'bytea', nullable: true })
  replaces!: Buffer | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  replacedAt!: Date | null;
}

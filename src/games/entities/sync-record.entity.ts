import {
  Column,
  CreateDateColumn,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { DeviceEntity } from '../../devices/entities/device.entity';

/**
 * What every synced table has besides its wire columns. Rows are keyed by (device_id, id), the
 * client's own id as-is, so two devices never collide and the tables can later be distributed
 * by device_id. `stamp` is the device clock value of the push that last wrote the row.
 */
@Index(['deviceId', 'stamp'])
export abstract class SyncRecordEntity {
  @PrimaryColumn({ type: 'uuid' })
  deviceId!: string;

  @ManyToOne(() => DeviceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id' })
  device?: DeviceEntity;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'bigint' })
  stamp!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  serverCreatedAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;

  /** Tombstone: deleted rows stay, so the next pull can tell the client. */
  @Column({ type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}

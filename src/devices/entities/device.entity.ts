import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'devices' })
export class DeviceEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name!: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  platform!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  /**
   * The device's sync clock (epoch ms): the stamp of its last push, or its registration time.
   * Pushes take `max(now, last_stamp + 1)` under this row's lock; pulls return it as `timestamp`.
   */
  @Column({ type: 'bigint' })
  lastStamp!: string;

  /** Set once; every token of a revoked device answers 401. */
  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}

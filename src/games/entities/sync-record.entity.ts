import {
  Column,
  CreateDateColumn,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { AccountEntity } from '../../devices/entities/account.entity';

/**
 * What every synced table has besides its wire columns. Rows are keyed by (account_id, id), the
 * client's own id as-is, so two accounts never collide and the tables can be distributed by
 * account_id. `stamp` is the account clock value of the push that last wrote the row.
 */
@Index(['accountId', 'stamp'])
// The tombstone purge finds old tombstones by it; live rows are not in it.
@Index(['deletedAt'], { where: '"deleted_at" IS NOT NULL' })
export abstract class SyncRecordEntity {
  @PrimaryColumn({ type: 'uuid' })
  accountId!: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: AccountEntity;

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

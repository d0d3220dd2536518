import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Who owns the synced data: every device belongs to one account, and every device of an account
 * reads and writes the same records.
 */
@Entity({ name: 'accounts' })
export class AccountEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  /**
   * The account's sync clock (epoch ms): the stamp of its last push, or its creation time.
   * Pushes take `max(now, last_stamp + 1)` under this row's lock; pulls return it as `timestamp`.
   */
  @Column({ type: 'bigint' })
  lastStamp!: string;

  /**
   * The newest stamp of the tombstones purged from this account: a pull from before it cannot
   * be answered incrementally (it would miss a deletion) and gets every live record instead.
   */
  @Column({ type: 'bigint', default: 0 })
  purgedStamp!: string;

  /** SHA-256 of the recovery code (never the code); null until one is asked for. */
  @Index({ unique: true })
  @Column({ type: 'bytea', nullable: true, select: false })
  recoveryCodeHash!: Buffer | null;
}

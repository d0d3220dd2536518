import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { AccountEntity } from './account.entity';

/** A code that lets a new install join an account: single use, short-lived, kept as a hash. */
@Entity({ name: 'pairing_codes' })
export class PairingCodeEntity {
  /** SHA-256 of the normalised code (never the code). */
  @PrimaryColumn({ type: 'bytea' })
  codeHash!: Buffer;

  @Index()
  @Column({ type: 'uuid' })
  accountId!: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: AccountEntity;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  /** Set when a device registered with it: a code works once. */
  @Column({ type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}

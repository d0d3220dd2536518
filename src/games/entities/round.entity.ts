import { Column, Entity, Index } from 'typeorm';
import { SyncRecordEntity } from './sync-record.entity';

@Index(['accountId', 'gameId'])
@Entity({ name: 'rounds' })
export class RoundEntity extends SyncRecordEntity {
  @Column({ type: 'varchar', length: 64 })
  gameId!: string;

  @Column({ type: 'int' })
  roundNumber!: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  callerId!: string | null;

  /** The client's creation time (epoch ms), a wire column; the server's is serverCreatedAt. */
  @Column({ type: 'bigint' })
  createdAt!: string;
}

import { Column, Entity, Index } from 'typeorm';
import { SyncRecordEntity } from './sync-record.entity';

@Index(['accountId', 'roundId'])
@Index(['accountId', 'playerId'])
@Entity({ name: 'scores' })
export class ScoreEntity extends SyncRecordEntity {
  @Column({ type: 'varchar', length: 64 })
  roundId!: string;

  @Column({ type: 'varchar', length: 64 })
  playerId!: string;

  @Column({ type: 'int' })
  rawScore!: number;

  @Column({ type: 'int' })
  bonusApplied!: number;

  @Column({ type: 'int' })
  finalScore!: number;

  @Column({ type: 'int' })
  totalAfter!: number;
}

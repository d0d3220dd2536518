import { Column, Entity } from 'typeorm';
import { SyncRecordEntity } from './sync-record.entity';

@Entity({ name: 'games' })
export class GameEntity extends SyncRecordEntity {
  @Column({ type: 'varchar', length: 200, nullable: true })
  name!: string | null;

  @Column({ type: 'int' })
  targetScore!: number;

  @Column({ type: 'varchar', length: 32 })
  status!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  winnerId!: string | null;

  @Column({ type: 'bigint' })
  startedAt!: string;

  @Column({ type: 'bigint', nullable: true })
  endedAt!: string | null;
}

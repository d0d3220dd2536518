import { Column, Entity, Index } from 'typeorm';
import { SyncRecordEntity } from './sync-record.entity';

@Index(['accountId', 'gameId'])
@Entity({ name: 'game_players' })
export class GamePlayerEntity extends SyncRecordEntity {
  @Column({ type: 'varchar', length: 64 })
  gameId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'int' })
  position!: number;

  @Column({ type: 'int' })
  currentTotal!: number;
}

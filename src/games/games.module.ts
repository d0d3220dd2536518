import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SYNC_TABLES } from '../sync/registry/sync-tables';

/** The synced entities (games, game_players, rounds, scores), registered from the sync registry. */
@Module({
  imports: [TypeOrmModule.forFeature(SYNC_TABLES.map((table) => table.entity))],
  exports: [TypeOrmModule],
})
export class GamesModule {}

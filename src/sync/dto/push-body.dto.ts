import { ApiProperty } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import { SyncChangesDto } from './sync-changes.dto';

/**
 * A push that succeeds as-is for any registered device, and again when replayed (same values).
 * Change a value and send it again with the same last_pulled_at to see a 409.
 */
const EXAMPLE = {
  changes: {
    games: {
      created: [
        {
          id: 'game-1',
          name: 'Friday night',
          target_score: 500,
          status: 'active',
          winner_id: null,
          started_at: 1764115200000,
          ended_at: null,
          _status: 'created',
          _changed: '',
        },
      ],
      updated: [],
      deleted: [],
    },
    game_players: {
      created: [
        { id: 'player-1', game_id: 'game-1', name: 'Ana', position: 1, current_total: 35 },
        { id: 'player-2', game_id: 'game-1', name: 'Ben', position: 2, current_total: 20 },
      ],
      updated: [],
      deleted: [],
    },
    rounds: {
      created: [
        {
          id: 'round-1',
          game_id: 'game-1',
          round_number: 1,
          caller_id: 'player-1',
          created_at: 1764115260000,
        },
      ],
      updated: [],
      deleted: [],
    },
    scores: {
      created: [
        {
          id: 'score-1',
          round_id: 'round-1',
          player_id: 'player-1',
          raw_score: 35,
          bonus_applied: 0,
          final_score: 35,
          total_after: 35,
        },
        {
          id: 'score-2',
          round_id: 'round-1',
          player_id: 'player-2',
          raw_score: 20,
          bonus_applied: 0,
          final_score: 20,
          total_after: 20,
        },
      ],
      updated: [],
      deleted: [],
    },
  },
  // Any time at or before the device's registration works for new records.
  last_pulled_at: 1764115200000,
};

/**
 * The push body. Its whole validation (every table, record and column) is done by PushBodyPipe
 * from the table registry, so one 400 lists every offending path; `@Allow` only keeps the
 * global whitelist from stripping the fields.
 */
export class PushBodyDto {
  @ApiProperty({
    type: SyncChangesDto,
    example: EXAMPLE.changes,
    description: 'Missing tables or arrays count as empty',
  })
  @Allow()
  changes!: Record<string, unknown>;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 1,
    example: EXAMPLE.last_pulled_at,
    description: 'The `timestamp` of the pull this push follows',
  })
  @Allow()
  last_pulled_at!: number;
}

import { Model, Query, Relation } from '@nozbe/watermelondb';
import type { Associations } from '@nozbe/watermelondb/Model';
import { children, date, field, immutableRelation, text } from '@nozbe/watermelondb/decorators';

/*
 * Decorated properties are `declare`d: with target ES2022+ TypeScript emits class fields with
 * [[Define]] semantics, and such an own field would shadow the accessor the decorator puts on
 * the prototype (every column would read `undefined`). `declare` emits no field at all.
 */

export class Game extends Model {
  static override table = 'games';
  static override associations: Associations = {
    game_players: { type: 'has_many', foreignKey: 'game_id' },
    rounds: { type: 'has_many', foreignKey: 'game_id' },
  };

  @text('name') declare name: string | null;
  @field('target_score') declare targetScore: number;
  @text('status') declare status: string;
  /** A game_players id; a plain column (the server stores it as given). */
  @field('winner_id') declare winnerId: string | null;
  @date('started_at') declare startedAt: Date;
  @date('ended_at') declare endedAt: Date | null;

  @children('game_players') declare players: Query<GamePlayer>;
  @children('rounds') declare rounds: Query<Round>;
}

export class GamePlayer extends Model {
  static override table = 'game_players';
  static override associations: Associations = {
    games: { type: 'belongs_to', key: 'game_id' },
    scores: { type: 'has_many', foreignKey: 'player_id' },
  };

  @field('game_id') declare gameId: string;
  @text('name') declare name: string;
  @field('position') declare position: number;
  @field('current_total') declare currentTotal: number;

  @immutableRelation('games', 'game_id') declare game: Relation<Game>;
  @children('scores') declare scores: Query<Score>;
}

export class Round extends Model {
  static override table = 'rounds';
  static override associations: Associations = {
    games: { type: 'belongs_to', key: 'game_id' },
    scores: { type: 'has_many', foreignKey: 'round_id' },
  };

  @field('game_id') declare gameId: string;
  @field('round_number') declare roundNumber: number;
  /** A game_players id; a plain column (the server stores it as given). */
  @field('caller_id') declare callerId: string | null;
  @date('created_at') declare createdAt: Date;

  @immutableRelation('games', 'game_id') declare game: Relation<Game>;
  @children('scores') declare scores: Query<Score>;
}

export class Score extends Model {
  static override table = 'scores';
  static override associations: Associations = {
    rounds: { type: 'belongs_to', key: 'round_id' },
    game_players: { type: 'belongs_to', key: 'player_id' },
  };

  @field('round_id') declare roundId: string;
  @field('player_id') declare playerId: string;
  @field('raw_score') declare rawScore: number;
  @field('bonus_applied') declare bonusApplied: number;
  @field('final_score') declare finalScore: number;
  @field('total_after') declare totalAfter: number;

  @immutableRelation('rounds', 'round_id') declare round: Relation<Round>;
  @immutableRelation('game_players', 'player_id') declare player: Relation<GamePlayer>;
}

export const modelClasses = [Game, GamePlayer, Round, Score];

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The four synced tables and the per-device sync clock.
 * - Rows are keyed by (device_id, id): the client's id as-is, scoped to its device.
 * - (device_id, stamp) indexes make "this device's rows changed since X" an index range scan.
 * - No foreign keys between synced tables: a child may be stored (as deleted) under a parent
 *   the server never had, when the push itself deleted that parent; the push rules keep the
 *   links consistent instead.
 */
export class CreateSyncTables1764127100000 implements MigrationInterface {
  name = 'CreateSyncTables1764127100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Existing devices start their clock now; new ones get it from DevicesService.register.
    await queryRunner.query(`
      ALTER TABLE "devices"
        ADD "last_stamp" bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint
    `);
    await queryRunner.query(`ALTER TABLE "devices" ALTER COLUMN "last_stamp" DROP DEFAULT`);

    const common = `
        "device_id" uuid NOT NULL,
        "id" varchar(64) NOT NULL,
        "stamp" bigint NOT NULL,
        "server_created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz`;
    const tables: Array<[string, string]> = [
      [
        'games',
        `"name" varchar(200),
        "target_score" integer NOT NULL,
        "status" varchar(32) NOT NULL,
        "winner_id" varchar(64),
        "started_at" bigint NOT NULL,
        "ended_at" bigint`,
      ],
      [
        'game_players',
        `"game_id" varchar(64) NOT NULL,
        "name" varchar(100) NOT NULL,
        "position" integer NOT NULL,
        "current_total" integer NOT NULL`,
      ],
      [
        'rounds',
        `"game_id" varchar(64) NOT NULL,
        "round_number" integer NOT NULL,
        "caller_id" varchar(64),
        "created_at" bigint NOT NULL`,
      ],
      [
        'scores',
        `"round_id" varchar(64) NOT NULL,
        "player_id" varchar(64) NOT NULL,
        "raw_score" integer NOT NULL,
        "bonus_applied" integer NOT NULL,
        "final_score" integer NOT NULL,
        "total_after" integer NOT NULL`,
      ],
    ];
    for (const [table, columns] of tables) {
      await queryRunner.query(`
        CREATE TABLE "${table}" (${common},
          ${columns},
          CONSTRAINT "PK_${table}" PRIMARY KEY ("device_id", "id"),
          CONSTRAINT "FK_${table}_device_id" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE
        )
      `);
      await queryRunner.query(
        `CREATE INDEX "IDX_${table}_device_id_stamp" ON "${table}" ("device_id", "stamp")`,
      );
    }
    // The delete cascade finds live children by their parent link.
    await queryRunner.query(
      `CREATE INDEX "IDX_game_players_device_id_game_id" ON "game_players" ("device_id", "game_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_rounds_device_id_game_id" ON "rounds" ("device_id", "game_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_scores_device_id_round_id" ON "scores" ("device_id", "round_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_scores_device_id_player_id" ON "scores" ("device_id", "player_id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['scores', 'rounds', 'game_players', 'games']) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
    await queryRunner.query(`ALTER TABLE "devices" DROP COLUMN "last_stamp"`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

const SYNCED = ['games', 'game_players', 'rounds', 'scores'];

/**
 * Tombstones can be purged: each account remembers the newest stamp purged from it (a pull from
 * before it is answered with every live record, as a replacement), and a partial index finds the
 * old tombstones without reading the live rows.
 */
export class TombstonePurge1796600000000 implements MigrationInterface {
  name = 'TombstonePurge1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "accounts" ADD "purged_stamp" bigint NOT NULL DEFAULT 0`);
    for (const table of SYNCED) {
      await queryRunner.query(
        `CREATE INDEX "IDX_${table}_deleted_at" ON "${table}" ("deleted_at") WHERE "deleted_at" IS NOT NULL`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of SYNCED) await queryRunner.query(`DROP INDEX "IDX_${table}_deleted_at"`);
    await queryRunner.query(`ALTER TABLE "accounts" DROP COLUMN "purged_stamp"`);
  }
}

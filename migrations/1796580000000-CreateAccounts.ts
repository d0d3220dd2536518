import { MigrationInterface, QueryRunner } from 'typeorm';

/** The synced tables, parents first; the indexes on their parent links (the cascade's lookups). */
const SYNCED: Array<[table: string, parentLinks: string[]]> = [
  ['games', []],
  ['game_players', ['game_id']],
  ['rounds', ['game_id']],
  ['scores', ['round_id', 'player_id']],
];

/**
 * Accounts own the synced data (instead of devices), and devices can join an account.
 *
 * Each existing device becomes an account of its own, with the device's id as the account's id
 * and the device's clock as the account's: the synced rows keep their key values (the column is
 * only renamed from device_id to account_id), and an installed app keeps its token and its
 * last_pulled_at and notices nothing.
 */
export class CreateAccounts1796580000000 implements MigrationInterface {
  name = 'CreateAccounts1796580000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "accounts" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_stamp" bigint NOT NULL,
        "recovery_code_hash" bytea,
        CONSTRAINT "PK_accounts" PRIMARY KEY ("id")
      )
    `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "IDX_accounts_recovery_code_hash" ON "accounts" ("recovery_code_hash")`,
    );
    await queryRunner.query(`
      INSERT INTO "accounts" ("id", "created_at", "last_stamp")
      SELECT "id", "created_at", "last_stamp" FROM "devices"
    `);

    await queryRunner.query(`ALTER TABLE "devices" ADD "account_id" uuid`);
    await queryRunner.query(`UPDATE "devices" SET "account_id" = "id"`);
    await queryRunner.query(`ALTER TABLE "devices" ALTER COLUMN "account_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "devices" DROP COLUMN "last_stamp"`);
    await queryRunner.query(`CREATE INDEX "IDX_devices_account_id" ON "devices" ("account_id")`);
    await queryRunner.query(`
      ALTER TABLE "devices" ADD CONSTRAINT "FK_devices_account_id"
        FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE
    `);

    for (const [table, links] of SYNCED) {
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "FK_${table}_device_id"`);
      await queryRunner.query(`ALTER TABLE "${table}" RENAME COLUMN "device_id" TO "account_id"`);
      for (const suffix of ['stamp', ...links]) {
        await queryRunner.query(
          `ALTER INDEX "IDX_${table}_device_id_${suffix}" RENAME TO "IDX_${table}_account_id_${suffix}"`,
        );
      }
      await queryRunner.query(`
        ALTER TABLE "${table}" ADD CONSTRAINT "FK_${table}_account_id"
          FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE
      `);
    }

    await queryRunner.query(`
      CREATE TABLE "pairing_codes" (
        "code_hash" bytea NOT NULL,
        "account_id" uuid NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "used_at" timestamptz,
        CONSTRAINT "PK_pairing_codes" PRIMARY KEY ("code_hash"),
        CONSTRAINT "FK_pairing_codes_account_id" FOREIGN KEY ("account_id")
          REFERENCES "accounts"("id") ON DELETE CASCADE
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_pairing_codes_account_id" ON "pairing_codes" ("account_id")`,
    );
  }

  /**
   * Back to data per device. Possible only while every account has one device (its data is then
   * that device's); an account whose devices share data cannot be split, so the migration stops
   * and changes nothing rather than give the data to one of them.
   */
  public async down(queryRunner: QueryRunner): Promise<void> {
    const [{ shared }] = (await queryRunner.query(`
      SELECT count(*)::int AS "shared" FROM (
        SELECT 1 FROM "devices" GROUP BY "account_id" HAVING count(*) > 1) AS "s"
    `)) as Array<{ shared: number }>;
    if (shared > 0) {
      throw new Error(
        `${shared} account(s) have more than one device sharing their data, which cannot be ` +
          'split back into per-device data: this migration cannot be reverted',
      );
    }
    await queryRunner.query(`DROP TABLE "pairing_codes"`);
    for (const [table, links] of SYNCED) {
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "FK_${table}_account_id"`);
      // Accounts made after the upgrade have ids of their own: their rows go to their device.
      await queryRunner.query(`
        UPDATE "${table}" AS "t" SET "account_id" = "d"."id"
        FROM "devices" AS "d" WHERE "d"."account_id" = "t"."account_id" AND "d"."id" <> "d"."account_id"
      `);
      await queryRunner.query(`ALTER TABLE "${table}" RENAME COLUMN "account_id" TO "device_id"`);
      for (const suffix of ['stamp', ...links]) {
        await queryRunner.query(
          `ALTER INDEX "IDX_${table}_account_id_${suffix}" RENAME TO "IDX_${table}_device_id_${suffix}"`,
        );
      }
      await queryRunner.query(`
        ALTER TABLE "${table}" ADD CONSTRAINT "FK_${table}_device_id"
          FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE
      `);
    }
    await queryRunner.query(`ALTER TABLE "devices" ADD "last_stamp" bigint`);
    await queryRunner.query(`
      UPDATE "devices" AS "d" SET "last_stamp" = "a"."last_stamp"
      FROM "accounts" AS "a" WHERE "a"."id" = "d"."account_id"
    `);
    await queryRunner.query(`ALTER TABLE "devices" ALTER COLUMN "last_stamp" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "devices" DROP CONSTRAINT "FK_devices_account_id"`);
    await queryRunner.query(`DROP INDEX "IDX_devices_account_id"`);
    await queryRunner.query(`ALTER TABLE "devices" DROP COLUMN "account_id"`);
    await queryRunner.query(`DROP TABLE "accounts"`);
  }
}

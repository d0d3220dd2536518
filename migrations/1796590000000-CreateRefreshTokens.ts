import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh tokens (their hashes): a device keeps its identity through any number of short access
 * tokens. Devices registered before get their first one at their next bearer refresh.
 */
export class CreateRefreshTokens1796590000000 implements MigrationInterface {
  name = 'CreateRefreshTokens1796590000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "refresh_tokens" (
        "token_hash" bytea NOT NULL,
        "device_id" uuid NOT NULL,
        "replaces" bytea,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "replaced_at" timestamptz,
        CONSTRAINT "PK_refresh_tokens" PRIMARY KEY ("token_hash"),
        CONSTRAINT "FK_refresh_tokens_device_id" FOREIGN KEY ("device_id")
          REFERENCES "devices"("id") ON DELETE CASCADE
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_refresh_tokens_device_id" ON "refresh_tokens" ("device_id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
  }
}

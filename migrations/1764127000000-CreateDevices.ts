import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDevices1764127000000 implements MigrationInterface {
  name = 'CreateDevices1764127000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "devices" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" varchar(100),
        "platform" varchar(32),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_seen_at" timestamptz,
        "revoked_at" timestamptz,
        CONSTRAINT "PK_devices" PRIMARY KEY ("id")
      )
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "devices"`);
  }
}

import { SyncTable } from '../registry/sync-tables';
import { q } from '../sql/quote';

/** Up to $2 tombstones of `table` deleted before $1, by age: the next batch to purge. */
export const oldTombstonesSql = (table: SyncTable) =>
  `SELECT "account_id", "id" FROM ${q(table.name)}
   WHERE "deleted_at" < $1 ORDER BY "deleted_at" LIMIT $2`;

/**
 * The accounts of a batch, locked in id order before any of their rows: a push locks its account
 * first too, so purge and pushes queue behind each other instead of deadlocking.
 */
export const LOCK_ACCOUNTS_SQL = `SELECT "id" FROM "accounts" WHERE "id" = ANY($1::uuid[]) ORDER BY "id" FOR UPDATE`;

/**
 * Deletes the tombstones ($1 account ids, $2 ids, both arrays) still deleted before $3, and
 * raises each account's purged_stamp to the newest stamp purged from it, in one statement:
 * a pull never sees a tombstone gone without the stamp that says so. Returns how many went.
 */
export const purgeTombstonesSql = (table: SyncTable) => `
  WITH "gone" AS (
    DELETE FROM ${q(table.name)} AS "t"
    USING unnest($1::uuid[], $2::varchar[]) AS "k"("account_id", "id")
    WHERE "t"."account_id" = "k"."account_id" AND "t"."id" = "k"."id" AND "t"."deleted_at" < $3
    RETURNING "t"."account_id", "t"."stamp"),
  "marked" AS (
    UPDATE "accounts" AS "a" SET "purged_stamp" = GREATEST("a"."purged_stamp", "g"."stamp")
    FROM (SELECT "account_id", max("stamp") AS "stamp" FROM "gone" GROUP BY "account_id") AS "g"
    WHERE "a"."id" = "g"."account_id")
  SELECT count(*)::int AS "purged" FROM "gone"`;

import { q } from './quote';

/**
 * How a sync statement finds one device's rows by a set of keys: an id list, or the parents a
 * cascade deletes from.
 *
 * - 'any': `key = ANY(ids)`, for plans made with the array in hand (PostgreSQL's default, a new
 *   plan per call). Whatever index such a plan picks, the array is hashed, so a wrong one costs a
 *   scan of the device's rows, never more.
 * - 'probe': one index probe per key (unnest, then a LATERAL lookup of that one key). This is the
 *   shape for generic plans (see plan-mode.service.ts), made once without the parameters: a
 *   generic `= ANY($n)` guesses 10 keys and, where devices look small, scans the device's rows
 *   testing every key on each, which is quadratic for a big device and a big push. A lookup of
 *   one key always costs least on the index that holds it, once the table has statistics.
 */
export type KeyLookup = 'any' | 'probe';

/**
 * The rows of `table` for device $1 whose `column` is one of `ids` (an SQL array expression), as
 * a parenthesised subquery to alias in a FROM list; `select` is its column list.
 */
export function keyedRows(
  table: string,
  column: string,
  ids: string,
  lookup: KeyLookup,
  select = '*',
): string {
  const match = `SELECT ${select} FROM ${q(table)} WHERE "device_id" = $1 AND ${q(column)}`;
  return lookup === 'any'
    ? `(${match} = ANY(${ids}))`
    : // OFFSET 0 keeps the lookup a subquery of its own, so the planner cannot turn it into a
      // join that scans the device's rows instead.
      `(SELECT "r".* FROM unnest(${ids}) AS "k"("key")
        CROSS JOIN LATERAL (${match} = "k"."key" OFFSET 0) AS "r")`;
}

/** A statement name for `lookup`: the two shapes are different texts. */
export const lookupName = (name: string, lookup: KeyLookup) =>
  lookup === 'any' ? name : `${name}_probe`;

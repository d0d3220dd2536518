import { SYNC_TABLES, SyncTable, syncTable } from '../registry/sync-tables';
import { PushChanges, WireRecord } from '../validation/validate-push-changes';

/** What the server holds for an id the push mentions: its stamp, tombstone and wire values. */
export type ExistingRow = { stamp: number; deleted: boolean; values: WireRecord };
export type ExistingRows = Map<SyncTable, Map<string, ExistingRow>>;

export type TableRef = { table: string; id: string };
export type Orphan = TableRef & { column: string; parent_id: string };

export type TablePlan = {
  /** Created and updated records alike; `deleted` ones are stored as tombstones. */
  upserts: Array<{ record: WireRecord; deleted: boolean }>;
  /** Ids that go from live to deleted here: their children must follow. */
  deletes: string[];
};

export type PushPlan =
  | { kind: 'apply'; tables: Map<SyncTable, TablePlan> }
  | { kind: 'conflict'; conflicts: TableRef[] }
  | { kind: 'orphans'; orphans: Orphan[] };

const sameValues = (table: SyncTable, stored: WireRecord, pushed: WireRecord) =>
  Object.keys(table.columns).every((column) => stored[column] === pushed[column]);

/**
 * Ids to look up before planning, per table: every id the push names, plus the parents its
 * records point at.
 */
export function idsToLoad(changes: PushChanges): Map<SyncTable, Set<string>> {
  const ids = new Map(SYNC_TABLES.map((table) => [table, new Set<string>()]));
  for (const [table, { created, updated, deleted }] of changes) {
    for (const record of [...created, ...updated]) {
      ids.get(table)!.add(record.id as string);
      for (const [column, parentName] of Object.entries(table.parents)) {
        ids.get(syncTable(parentName)!)!.add(record[column] as string);
      }
    }
    for (const id of deleted) ids.get(table)!.add(id);
  }
  return ids;
}

/**
 * The push rules of the contract, as a pure function of the push and the rows it touches:
 * - a record changed on the server after `lastPulledAt` is a conflict (nothing is applied),
 *   unless the push would leave it exactly as it is (a replay);
 * - a child whose parent is deleted (on the server, or in this push) is stored deleted;
 *   deletion wins over a later update of a tombstoned record;
 * - a child whose parent the device never had is an orphan (422);
 * - deleting a record the server does not have is a no-op.
 */
export function planPush(
  changes: PushChanges,
  existing: ExistingRows,
  lastPulledAt: number,
): PushPlan {
  const conflicts: TableRef[] = [];
  for (const [table, { created, updated, deleted }] of changes) {
    const rows = existing.get(table)!;
    const newer = (id: string) => {
      const row = rows.get(id);
      return row && row.stamp > lastPulledAt ? row : undefined;
    };
    // A change that would leave the server row as it is (a replayed push) is not a conflict.
    for (const record of [...created, ...updated]) {
      const row = newer(record.id as string);
      if (row && (row.deleted || !sameValues(table, row.values, record))) {
        conflicts.push({ table: table.name, id: record.id as string });
      }
    }
    for (const id of deleted) {
      if (newer(id)?.deleted === false) conflicts.push({ table: table.name, id });
    }
  }
  if (conflicts.length) return { kind: 'conflict', conflicts };

  // Parents come first in the registry, so a parent's fate is settled before its children ask.
  const fate = new Map<string, Map<string, 'live' | 'deleted'>>();
  const parentFate = (tableName: string, id: string): 'live' | 'deleted' | 'missing' => {
    const planned = fate.get(tableName)?.get(id);
    if (planned) return planned;
    const row = existing.get(syncTable(tableName)!)!.get(id);
    if (!row) return 'missing';
    return row.deleted ? 'deleted' : 'live';
  };

  const orphans: Orphan[] = [];
  const tables = new Map<SyncTable, TablePlan>();
  for (const [table, { created, updated, deleted }] of changes) {
    const rows = existing.get(table)!;
    const fates = new Map<string, 'live' | 'deleted'>();
    fate.set(table.name, fates);
    for (const id of deleted) fates.set(id, 'deleted');

    const plan: TablePlan = { upserts: [], deletes: [] };
    for (const record of [...created, ...updated]) {
      const id = record.id as string;
      let isDeleted = rows.get(id)?.deleted ?? false;
      for (const [column, parentName] of Object.entries(table.parents)) {
        const parentId = record[column] as string;
        const parent = parentFate(parentName, parentId);
        if (parent === 'missing')
          orphans.push({ table: table.name, id, column, parent_id: parentId });
        if (parent === 'deleted') isDeleted = true;
      }
      fates.set(id, isDeleted ? 'deleted' : 'live');
      plan.upserts.push({ record, deleted: isDeleted });
      if (isDeleted && rows.get(id)?.deleted === false) plan.deletes.push(id);
    }
    for (const id of deleted) {
      if (rows.get(id)?.deleted === false) plan.deletes.push(id);
    }
    tables.set(table, plan);
  }
  if (orphans.length) return { kind: 'orphans', orphans };
  return { kind: 'apply', tables };
}

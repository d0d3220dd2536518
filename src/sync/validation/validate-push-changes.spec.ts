import { SYNC_TABLE_NAMES } from '../registry/sync-tables';
import { validatePushChanges } from './validate-push-changes';

const game = {
  id: 'g1',
  name: null,
  target_score: 1,
  status: 's',
  winner_id: null,
  started_at: 0,
  ended_at: null,
};

describe('validatePushChanges', () => {
  it('fills in missing tables and arrays, and keeps only wire columns', () => {
    const result = validatePushChanges({
      games: { created: [{ ...game, _status: 'created', _changed: '', extra: 1 }] },
    });
    if ('errors' in result) throw new Error(result.errors.join());
    expect([...result.changes.keys()].map((t) => t.name)).toEqual(SYNC_TABLE_NAMES);
    expect([...result.changes.values()][0]).toEqual({ created: [game], updated: [], deleted: [] });
    expect(result.records).toBe(1);
  });

  it('counts string length in characters, not UTF-16 units', () => {
    const result = validatePushChanges({
      games: { created: [{ ...game, status: '🎲'.repeat(32) }] },
    });
    expect('errors' in result).toBe(false);
  });

  it('caps the list of messages and says how many more there were', () => {
    const result = validatePushChanges({
      games: { deleted: Array.from({ length: 150 }, () => 'bad id') },
    });
    if (!('errors' in result)) throw new Error('expected errors');
    expect(result.errors).toHaveLength(101);
    expect(result.errors[100]).toBe('... and 50 more');
  });
});

import { PullBody } from './pull-body';

const collect = (tables: string[]) => {
  const chunks: Buffer[] = [];
  const body = new PullBody(tables, (chunk) => chunks.push(chunk));
  return { body, chunks, text: () => Buffer.concat(chunks).toString() };
};

describe('PullBody', () => {
  it('writes the WatermelonDB pull response, empty sections included', () => {
    const { body, text } = collect(['games', 'game_players', 'rounds']);
    body.add(0, JSON.stringify({ id: 'g1' }));
    body.add(1, JSON.stringify('g9'));
    body.add(1, JSON.stringify('g8'));
    body.add(4, JSON.stringify({ id: 'r1', note: 'a "quoted", comma' }));
    body.add(4, JSON.stringify({ id: 'r2', note: 'ü 🍉' }));
    expect(body.records).toBe(5);
    body.finish(1795673745559);
    expect(JSON.parse(text())).toEqual({
      changes: {
        games: { created: [], updated: [{ id: 'g1' }], deleted: ['g9', 'g8'] },
        game_players: { created: [], updated: [], deleted: [] },
        rounds: {
          created: [],
          updated: [
            { id: 'r1', note: 'a "quoted", comma' },
            { id: 'r2', note: 'ü 🍉' },
          ],
          deleted: [],
        },
      },
      timestamp: 1795673745559,
    });
  });

  it('writes an empty pull', () => {
    const { body, chunks, text } = collect(['games', 'rounds']);
    body.finish(7);
    expect(chunks).toHaveLength(1);
    expect(text()).toBe(
      '{"changes":{"games":{"created":[],"updated":[],"deleted":[]},' +
        '"rounds":{"created":[],"updated":[],"deleted":[]}},"timestamp":7}',
    );
  });

  it('hands each chunk out as soon as it is full, and keeps every record', () => {
    const { body, chunks, text } = collect(['scores']);
    const records = Array.from({ length: 5000 }, (_, i) => ({ id: `s${i}`, pad: 'x'.repeat(40) }));
    records.slice(0, 2500).forEach((record) => body.add(0, JSON.stringify(record)));
    const early = chunks.length;
    expect(early).toBeGreaterThan(0);
    records.slice(2500).forEach((record) => body.add(0, JSON.stringify(record)));
    body.finish(7);
    expect(chunks.length).toBeGreaterThan(early + 1);
    expect(JSON.parse(text())).toEqual({
      changes: { scores: { created: [], updated: records, deleted: [] } },
      timestamp: 7,
    });
  });

  it('refuses a piece of a section it has closed', () => {
    const { body } = collect(['games', 'rounds']);
    body.add(2, '{}');
    expect(() => body.add(1, '"g1"')).toThrow(/out of order/);
  });
});

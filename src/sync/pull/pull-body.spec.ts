import { PullBody } from './pull-body';

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();

describe('PullBody', () => {
  it('assembles the WatermelonDB pull response from pieces that come in any order', () => {
    const body = new PullBody(['games', 'rounds']);
    body.add(2, JSON.stringify({ id: 'r1', note: 'a "quoted", comma' }));
    body.add(1, JSON.stringify('g9'));
    body.add(0, JSON.stringify({ id: 'g1' }));
    body.add(2, JSON.stringify({ id: 'r2', note: 'ü 🍉' }));
    expect(body.records).toBe(4);
    expect(JSON.parse(text(body.finish(1795673745559)))).toEqual({
      changes: {
        games: { created: [], updated: [{ id: 'g1' }], deleted: ['g9'] },
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

  it('packs a big section into several chunks and keeps every record', () => {
    const body = new PullBody(['scores']);
    const records = Array.from({ length: 5000 }, (_, i) => ({ id: `s${i}`, pad: 'x'.repeat(40) }));
    for (const record of records) body.add(0, JSON.stringify(record));
    const chunks = body.finish(7);
    expect(chunks.filter((chunk) => chunk.length > 1000).length).toBeGreaterThan(2);
    expect(JSON.parse(text(chunks))).toEqual({
      changes: { scores: { created: [], updated: records, deleted: [] } },
      timestamp: 7,
    });
  });
});

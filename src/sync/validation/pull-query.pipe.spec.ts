import { BadRequestException } from '@nestjs/common';
import { PullQueryPipe } from './pull-query.pipe';

describe('PullQueryPipe', () => {
  const pipe = new PullQueryPipe();
  const messages = (query: Record<string, unknown>): string[] => {
    try {
      pipe.transform(query);
    } catch (error) {
      expect(error).toBeInstanceOf(BadRequestException);
      return ((error as BadRequestException).getResponse() as { message: string[] }).message;
    }
    throw new Error(`accepted ${JSON.stringify(query)}`);
  };

  it.each([
    [{}, { lastPulledAt: 0 }],
    [{ last_pulled_at: '', schema_version: 'null', migration: 'null' }, { lastPulledAt: 0 }],
    [
      { last_pulled_at: '1764115200000', schema_version: '3' },
      { lastPulledAt: 1764115200000, schemaVersion: 3 },
    ],
    [{ last_pulled_at: '0', unknown: 'x' }, { lastPulledAt: 0 }],
    // Any positive integer is a schema version (this one is rounded: it changes nothing).
    [{ schema_version: '9007199254740993' }, { lastPulledAt: 0, schemaVersion: 2 ** 53 }],
    [
      {
        migration:
          '{"from":1,"tables":["rounds"],"columns":[{"table":"games","columns":["ended_at"]}],"x":1}',
      },
      {
        lastPulledAt: 0,
        migration: {
          from: 1,
          tables: ['rounds'],
          columns: [{ table: 'games', columns: ['ended_at'] }],
        },
      },
    ],
    [{ migration: 'null' }, { lastPulledAt: 0 }],
  ])('accepts %j', (query, expected) => {
    expect(pipe.transform(query)).toEqual(expected);
  });

  it.each([
    [{ last_pulled_at: 'abc' }, 'last_pulled_at must be an integer'],
    [{ last_pulled_at: '-1' }, 'last_pulled_at must be an integer'],
    [{ last_pulled_at: '1.5' }, 'last_pulled_at must be an integer'],
    [{ last_pulled_at: '1e3' }, 'last_pulled_at must be an integer'],
    [{ last_pulled_at: '12345678901234567' }, 'last_pulled_at must be an integer'],
    [{ last_pulled_at: ['1', '2'] }, 'last_pulled_at must be an integer'],
    [{ schema_version: '0' }, 'schema_version must be an integer of at least 1'],
    [{ migration: '{not json' }, 'migration must be null or a JSON object'],
    [{ migration: '[1,2]' }, 'migration must be null or a JSON object'],
    [{ migration: '{"from":"x","tables":[],"columns":[]}' }, 'migration.from must be an integer'],
    [
      { migration: '{"from":1,"tables":"rounds","columns":[]}' },
      'migration.tables must be an array',
    ],
    [
      { migration: '{"from":1,"tables":[],"columns":[{"table":"games","columns":[1]}]}' },
      'migration.columns[0].columns[0] must be a string',
    ],
    [
      { migration: '{"from":1,"tables":[],"columns":[7]}' },
      'migration.columns[0] must be an object',
    ],
    [
      { migration: `{"from":1,"tables":["${'t'.repeat(65)}"],"columns":[]}` },
      'migration.tables[0] must be a string of at most 64',
    ],
  ])('refuses %j: %s', (query, message) => {
    expect(messages(query)).toEqual([expect.stringContaining(message)]);
  });

  it('names every offending parameter at once', () => {
    expect(messages({ last_pulled_at: 'x', schema_version: 'y', migration: '{}' })).toEqual([
      expect.stringMatching(/^last_pulled_at /),
      expect.stringMatching(/^schema_version /),
      expect.stringMatching(/^migration.from /),
      expect.stringMatching(/^migration.tables /),
      expect.stringMatching(/^migration.columns /),
    ]);
  });
});

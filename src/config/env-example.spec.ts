import { getMetadataStorage } from 'class-validator';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseEnvVariables } from '../database/config/database.config';
import { DevicesEnvVariables } from '../devices/config/devices.config';
import { SyncEnvVariables } from '../sync/config/sync.config';
import { AppEnvVariables } from './app.config';
import { loadAllConfig } from './load-all-config';

const ROOT = path.resolve(__dirname, '../..');

/** Every variable the config validators know. */
const validated = (): string[] =>
  [AppEnvVariables, DatabaseEnvVariables, DevicesEnvVariables, SyncEnvVariables]
    .flatMap((target) =>
      getMetadataStorage()
        .getTargetValidationMetadatas(target, '', true, false)
        .map((metadata) => metadata.propertyName),
    )
    .filter((name, i, all) => all.indexOf(name) === i)
    .sort();

/** `NAME=value` lines, and `# NAME=value` ones (documented, left unset), with the line above. */
function readExample(): Array<{ name: string; value: string; set: boolean; meaning: string }> {
  const lines = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n');
  return lines.flatMap((line, i) => {
    const match = /^(# )?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    return match
      ? [{ name: match[2], value: match[3], set: !match[1], meaning: lines[i - 1] ?? '' }]
      : [];
  });
}

describe('.env.example', () => {
  it('lists every variable the config validates, once, each with a one-line meaning', () => {
    const example = readExample();
    expect(example.map((v) => v.name).sort()).toEqual(validated());
    for (const variable of example) {
      expect({ name: variable.name, meaning: variable.meaning }).toEqual({
        name: variable.name,
        meaning: expect.stringMatching(/^# \S/),
      });
    }
  });

  it('gives the defaults the config applies', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'env-example-'));
    try {
      const set = Object.fromEntries(
        readExample()
          .filter((v) => v.set)
          .map((v) => [v.name, v.value]),
      );
      const base = { DATA_DIR: dataDir, JWT_SECRET: 's'.repeat(32) };
      expect(loadAllConfig({ ...set, ...base })).toEqual(loadAllConfig(base));
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('and the README documents every one of them', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(validated().filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});

import { DefaultNamingStrategy, NamingStrategyInterface, Table } from 'typeorm';

const toSnakeCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

const tableName = (table: Table | string) => (typeof table === 'string' ? table : table.name);

/**
 * Maps camelCase entity properties to the snake_case columns that the sync wire format uses, and
 * gives constraints readable names (PK_games, IDX_games_device_id_stamp) that the hand-written
 * migrations use too, so `migration:generate` finds no difference.
 */
export class SnakeNamingStrategy extends DefaultNamingStrategy implements NamingStrategyInterface {
  override columnName(
    propertyName: string,
    customName: string | undefined,
    prefixes: string[],
  ): string {
    return toSnakeCase([...prefixes, customName ?? propertyName].join('_'));
  }

  override relationName(propertyName: string): string {
    return toSnakeCase(propertyName);
  }

  override joinColumnName(relationName: string, referencedColumnName: string): string {
    return toSnakeCase(`${relationName}_${referencedColumnName}`);
  }

  override primaryKeyName(table: Table | string): string {
    return `PK_${tableName(table)}`;
  }

  override foreignKeyName(table: Table | string, columnNames: string[]): string {
    return `FK_${tableName(table)}_${columnNames.join('_')}`;
  }

  override indexName(table: Table | string, columnNames: string[]): string {
    return `IDX_${tableName(table)}_${columnNames.join('_')}`;
  }
}

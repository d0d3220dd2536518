import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

type ClassConstructor<T> = new () => T;

function describe(errors: ValidationError[]): string {
  return errors
    .map((error) => {
      const reasons = Object.values(error.constraints ?? {}).join('; ');
      return `  ${error.property}: ${reasons}`;
    })
    .join('\n');
}

/**
 * Validates environment variables against a class-validator class and returns the typed,
 * converted result. Throws one error naming every offending variable, so a bad deployment
 * fails at boot instead of at the first request.
 */
export function validateConfig<T extends object>(
  config: Record<string, unknown>,
  envVariablesClass: ClassConstructor<T>,
): T {
  const validatedConfig = plainToInstance(envVariablesClass, config, {
    enableImplicitConversion: true,
  });
  const errors = validateSync(validatedConfig, { skipMissingProperties: false });
  if (errors.length > 0) {
    throw new Error(`Invalid configuration:\n${describe(errors)}`);
  }
  return validatedConfig;
}

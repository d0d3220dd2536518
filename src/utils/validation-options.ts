import { BadRequestException, ValidationError, ValidationPipeOptions } from '@nestjs/common';

/** `changes.scores.created[3]` style paths, as the contract's error messages use them. */
function join(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

/** Flattens class-validator's tree into one message per offending path. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = join(parent, error.property);
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(`${error.property} `)
        ? `${path}${message.slice(error.property.length)}`
        : `${path}: ${message}`,
    );
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

/** The one 400 body of a refused input: every offending path, each in its own message. */
export function validationFailed(messages: string[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, message: messages, error: 'Bad Request' });
}

/**
 * The global ValidationPipe's options: converted types, unknown keys stripped (never rejected:
 * WatermelonDB sends `_status`, `_changed` and columns of newer app versions), and one 400 body
 * listing every offending path.
 */
export const validationOptions: ValidationPipeOptions = {
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: false,
  exceptionFactory: (errors: ValidationError[]) =>
    validationFailed(describeValidationErrors(errors)),
};

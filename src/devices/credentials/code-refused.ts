import { ForbiddenException } from '@nestjs/common';

/** The one answer for a code that is unknown, expired, used or replaced: nothing tells which. */
export const codeRefused = () =>
  new ForbiddenException('This code is not valid: ask the other device for a new one');

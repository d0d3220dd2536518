import { UnauthorizedException } from '@nestjs/common';

/** The one 401 for a token whose device is gone or revoked, wherever that is found out. */
export const deviceRefused = () => new UnauthorizedException('Device is unknown or revoked');

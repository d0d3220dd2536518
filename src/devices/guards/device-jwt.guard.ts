import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { bearerToken, DEVICE_JWT_STRATEGY } from '../strategies/device-jwt.strategy';
import { AuthenticatedDevice } from '../strategies/types/authenticated-device.type';
import { VerifiedTokens } from '../strategies/verified-tokens';

/**
 * A valid device JWT, whose device id becomes `request.user` (see DeviceJwtStrategy). A token
 * verified before and not expired since skips passport and the signature check.
 */
@Injectable()
export class DeviceJwtGuard extends AuthGuard(DEVICE_JWT_STRATEGY) {
  constructor(private readonly verified: VerifiedTokens) {
    super();
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest & { user?: AuthenticatedDevice }>();
    const token = bearerToken(request);
    const device = token ? this.verified.get(token) : undefined;
    if (device) {
      request.user = device;
      return Promise.resolve(true);
    }
    return super.canActivate(context) as Promise<boolean>;
  }
}

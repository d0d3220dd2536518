import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { DEVICE_JWT_STRATEGY } from '../strategies/device-jwt.strategy';
import { AuthenticatedDevice } from '../strategies/types/authenticated-device.type';

@Injectable()
export class DeviceJwtGuard extends AuthGuard(DEVICE_JWT_STRATEGY) {
  /**
   * Also puts the device on Node's own request, which is what the request logger (pino-http)
   * sees under Fastify, so that the request's log line names its device.
   */
  override handleRequest<TUser = AuthenticatedDevice>(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
    status?: unknown,
  ): TUser {
    const device = super.handleRequest<TUser>(error, user, info, context, status);
    const { raw } = context.switchToHttp().getRequest<FastifyRequest>();
    (raw as typeof raw & { user?: TUser }).user = device;
    return device;
  }
}

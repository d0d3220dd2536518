import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DeviceEntity } from '../entities/device.entity';

/** The authenticated device's row; use on routes behind DeviceAuth() only. */
export const CurrentDevice = createParamDecorator(
  (_data: unknown, context: ExecutionContext): DeviceEntity =>
    context.switchToHttp().getRequest<FastifyRequest & { user: DeviceEntity }>().user,
);

/** When the request's access token expires (epoch ms); use on routes behind DeviceAuth() only. */
export const TokenExpiresAt = createParamDecorator(
  (_data: unknown, context: ExecutionContext): number =>
    context.switchToHttp().getRequest<FastifyRequest & { tokenExpiresAt: number }>().tokenExpiresAt,
);

import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DeviceEntity } from '../entities/device.entity';

/** The authenticated device's row; use on routes behind DeviceAuth() only. */
export const CurrentDevice = createParamDecorator(
  (_data: unknown, context: ExecutionContext): DeviceEntity =>
    context.switchToHttp().getRequest<FastifyRequest & { user: DeviceEntity }>().user,
);

import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Request } from 'express';
import { DeviceEntity } from '../entities/device.entity';

/** The authenticated device (set by DeviceJwtStrategy); use behind DeviceJwtGuard only. */
export const CurrentDevice = createParamDecorator(
  (_data: unknown, context: ExecutionContext): DeviceEntity =>
    context.switchToHttp().getRequest<Request & { user: DeviceEntity }>().user,
);

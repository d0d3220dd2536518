import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DeviceEntity } from '../entities/device.entity';
import { AuthenticatedDevice } from '../strategies/types/authenticated-device.type';

type AuthenticatedRequest = FastifyRequest & { user: AuthenticatedDevice | DeviceEntity };

/** The authenticated device's row; use on routes behind DeviceAuth() only. */
export const CurrentDevice = createParamDecorator(
  (_data: unknown, context: ExecutionContext): DeviceEntity => {
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!(user instanceof DeviceEntity)) {
      throw new Error(
        '@CurrentDevice() needs DeviceAuth(); behind DeviceTokenAuth() use @CurrentDeviceId()',
      );
    }
    return user;
  },
);

/** The id of the device the token was issued for (DeviceAuth() or DeviceTokenAuth()). */
export const CurrentDeviceId = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().user.id,
);

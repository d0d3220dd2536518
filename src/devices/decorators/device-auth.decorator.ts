import { applyDecorators, CanActivate, Type, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { ErrorResponseDto } from '../../common/dto/error-response.dto';
import { REGISTER_THROTTLER, ThrottlingGuard } from '../../common/throttling/throttling.guard';
import { ActiveDeviceGuard } from '../guards/active-device.guard';
import { DeviceJwtGuard } from '../guards/device-jwt.guard';

const authenticated = (guards: Array<Type<CanActivate>>) =>
  applyDecorators(
    // The per-device rate limit last: it needs the device id.
    UseGuards(...guards, ThrottlingGuard),
    SkipThrottle({ [REGISTER_THROTTLER]: true }),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      type: ErrorResponseDto,
      description: 'Missing, invalid or expired token, or revoked device',
    }),
    ApiTooManyRequestsResponse({
      type: ErrorResponseDto,
      description: 'Rate limit; see Retry-After',
    }),
  );

/**
 * A route for authenticated devices: a valid device JWT, and the device loaded and checked
 * (not gone, not revoked) before the handler runs, for @CurrentDevice().
 */
export const DeviceAuth = () => authenticated([DeviceJwtGuard, ActiveDeviceGuard]);

/**
 * A route whose handler checks the device itself, in the same statements and transaction as its
 * work (the sync routes): only the token is verified up front, for @CurrentDeviceId(). Saves a
 * database round trip per request, and there is no gap between the check and the work.
 */
export const DeviceTokenAuth = () => authenticated([DeviceJwtGuard]);

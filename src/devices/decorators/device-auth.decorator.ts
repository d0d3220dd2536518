import { applyDecorators, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { ErrorResponseDto } from '../../common/dto/error-response.dto';
import { CREDENTIALS_THROTTLER, ThrottlingGuard } from '../../common/throttling/throttling.guard';
import { DeviceJwtGuard } from '../guards/device-jwt.guard';

/**
 * A route for authenticated devices: a valid device JWT of a device that exists and is not
 * revoked, whose row @CurrentDevice() gives the handler; then the per-device rate limit, and
 * with `credentials` the tighter one of the routes that hand out codes.
 */
export const DeviceAuth = ({ credentials = false } = {}) =>
  applyDecorators(
    // The rate limits last: they are kept per device.
    UseGuards(DeviceJwtGuard, ThrottlingGuard),
    SkipThrottle({ [CREDENTIALS_THROTTLER]: !credentials }),
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

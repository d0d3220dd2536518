import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { DEVICE_JWT_STRATEGY } from '../strategies/device-jwt.strategy';

/** A valid device JWT, whose device id becomes `request.user` (see DeviceJwtStrategy). */
@Injectable()
export class DeviceJwtGuard extends AuthGuard(DEVICE_JWT_STRATEGY) {}

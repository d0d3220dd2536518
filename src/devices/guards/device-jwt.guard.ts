import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { DEVICE_JWT_STRATEGY } from '../strategies/device-jwt.strategy';

/** A valid device JWT of an active device, whose row becomes `request.user` (DeviceJwtStrategy). */
@Injectable()
export class DeviceJwtGuard extends AuthGuard(DEVICE_JWT_STRATEGY) {}

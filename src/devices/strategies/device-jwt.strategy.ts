import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AllConfigType } from '../../config/config.type';
import { deviceRefused } from '../device-refused';
import { isUuid } from '../devices.service';
import { AuthenticatedDevice } from './types/authenticated-device.type';
import { DeviceJwtPayload } from './types/device-jwt-payload.type';

export const DEVICE_JWT_STRATEGY = 'device-jwt';

@Injectable()
export class DeviceJwtStrategy extends PassportStrategy(Strategy, DEVICE_JWT_STRATEGY) {
  constructor(config: ConfigService<AllConfigType, true>) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject: given a string, jsonwebtoken first tries to parse it as a PEM public key on
      // every verification (measured: 11-16% of the server's CPU under load).
      // (passport-jwt's types predate KeyObject; jsonwebtoken, which it calls, takes one.)
      secretOrKey: createSecretKey(
        Buffer.from(config.getOrThrow('devices.jwtSecret', { infer: true })),
      ) as unknown as Buffer,
      // Pinned, so `alg: none` and algorithm-confusion tokens are refused.
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /**
   * A valid signature names a device; whether it still exists and is not revoked is checked
   * after this (ActiveDeviceGuard, or the sync statements), so this costs no database query.
   */
  validate(payload: DeviceJwtPayload): AuthenticatedDevice {
    if (typeof payload.sub !== 'string' || !isUuid(payload.sub)) {
      throw deviceRefused();
    }
    return { id: payload.sub };
  }
}

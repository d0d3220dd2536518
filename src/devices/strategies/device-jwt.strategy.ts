import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AllConfigType } from '../../config/config.type';
import { deviceRefused } from '../device-refused';
import { isUuid } from '../devices.service';
import { AuthenticatedDevice } from './types/authenticated-device.type';
import { DeviceJwtPayload } from './types/device-jwt-payload.type';
import { VerifiedTokens } from './verified-tokens';

export const DEVICE_JWT_STRATEGY = 'device-jwt';

/** The token of an `Authorization: Bearer` header, or null. */
export const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

@Injectable()
export class DeviceJwtStrategy extends PassportStrategy(Strategy, DEVICE_JWT_STRATEGY) {
  constructor(
    config: ConfigService<AllConfigType, true>,
    private readonly verified: VerifiedTokens,
  ) {
    super({
      jwtFromRequest: bearerToken,
      passReqToCallback: true,
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
   * The token is remembered as verified until it expires (see DeviceJwtGuard).
   */
  validate(request: FastifyRequest, payload: DeviceJwtPayload): AuthenticatedDevice {
    if (typeof payload.sub !== 'string' || !isUuid(payload.sub)) {
      throw deviceRefused();
    }
    const device = Object.freeze({ id: payload.sub });
    this.verified.remember(bearerToken(request)!, device, payload.exp);
    return device;
  }
}

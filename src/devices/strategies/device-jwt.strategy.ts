import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AllConfigType } from '../../config/config.type';
import { deviceRefused } from '../device-refused';
import { DevicesService } from '../devices.service';
import { DeviceEntity } from '../entities/device.entity';
import { DeviceJwtPayload } from './types/device-jwt-payload.type';

export const DEVICE_JWT_STRATEGY = 'device-jwt';

@Injectable()
export class DeviceJwtStrategy extends PassportStrategy(Strategy, DEVICE_JWT_STRATEGY) {
  constructor(
    config: ConfigService<AllConfigType, true>,
    private readonly devices: DevicesService,
  ) {
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
      passReqToCallback: true,
    });
  }

  /**
   * A valid signature names a device: it must still exist and not be revoked, checked here on
   * every request (one indexed read), so a revocation takes effect at once. The row becomes
   * `request.user`, for @CurrentDevice(); the token's expiry goes on the request too, for
   * @TokenExpiresAt().
   */
  async validate(
    request: FastifyRequest & { tokenExpiresAt?: number },
    payload: DeviceJwtPayload,
  ): Promise<DeviceEntity> {
    const device =
      typeof payload.sub === 'string' ? await this.devices.findActive(payload.sub) : null;
    if (!device) throw deviceRefused();
    await this.devices.touch(device);
    request.tokenExpiresAt = (payload.exp ?? 0) * 1000;
    return device;
  }
}

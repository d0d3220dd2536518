import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { AllConfigType } from '../../config/config.type';
import { DEVICE_THROTTLER, REGISTER_THROTTLER, ThrottlingGuard } from './throttling.guard';

/**
 * Two limits: per device on the authenticated routes, per IP on registration. Counters live in
 * each instance's memory, so behind N instances a client gets up to N times the limit.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfigType, true>) => {
        const { enabled, ttlMs, deviceLimit, registerLimit } = config.get('app.throttle', {
          infer: true,
        });
        return {
          throttlers: [
            { name: DEVICE_THROTTLER, ttl: ttlMs, limit: deviceLimit },
            { name: REGISTER_THROTTLER, ttl: ttlMs, limit: registerLimit },
          ],
          skipIf: () => !enabled,
          errorMessage: 'Too many requests; retry after the number of seconds in Retry-After',
        };
      },
    }),
  ],
  providers: [ThrottlingGuard],
  exports: [ThrottlingGuard, ThrottlerModule],
})
export class ThrottlingModule {}

import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { AllConfigType } from '../../config/config.type';
import { CREDENTIALS_THROTTLER, DEVICE_THROTTLER, ThrottlingGuard } from './throttling.guard';

/**
 * Two limits: per device on the authenticated routes, and a tighter one on the routes that hand
 * out credentials (registration per client IP; pairing and recovery codes per device). Counters
 * live in each instance's memory, so behind N instances a client gets up to N times the limit.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfigType, true>) => {
        const { enabled, ttlMs, deviceLimit, credentialsLimit } = config.get('app.throttle', {
          infer: true,
        });
        return {
          throttlers: [
            { name: DEVICE_THROTTLER, ttl: ttlMs, limit: deviceLimit },
            { name: CREDENTIALS_THROTTLER, ttl: ttlMs, limit: credentialsLimit },
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

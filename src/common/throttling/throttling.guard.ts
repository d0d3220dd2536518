import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Every authenticated request, per device. */
export const DEVICE_THROTTLER = 'device';
/** Requests for credentials: registrations per client IP, codes per device. */
export const CREDENTIALS_THROTTLER = 'credentials';

/**
 * Rate limits keyed by device when the request is authenticated (place it after
 * DeviceJwtGuard), by client IP otherwise. A refusal is a 429 with a plain `Retry-After`.
 */
@Injectable()
export class ThrottlingGuard extends ThrottlerGuard {
  protected override async getTracker(
    req: FastifyRequest & { user?: { id: string } },
  ): Promise<string> {
    return req.user ? `device:${req.user.id}` : `ip:${req.ip ?? 'unknown'}`;
  }

  /** One budget per device (or IP) across all routes, not one per route as by default. */
  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    throttlerName: string,
  ): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    context
      .switchToHttp()
      .getResponse<FastifyReply>()
      .header('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    return super.throwThrottlingException(context, detail);
  }
}

import { Body, Controller, Get, HttpCode, Header, HttpStatus, Post, Query } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiQuery,
  ApiTooManyRequestsResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { CurrentDevice, TokenExpiresAt } from '../devices/decorators/current-device.decorator';
import { DeviceAuth } from '../devices/decorators/device-auth.decorator';
import { DeviceEntity } from '../devices/entities/device.entity';
import { RequestLog } from '../logging/request-log';
import { PullQueryDto } from './dto/pull-query.dto';
import { PullResponseDto } from './dto/pull-response.dto';
import { PushBodyDto } from './dto/push-body.dto';
import { PushResponseDto } from './dto/push-response.dto';
import { ConflictResponseDto, UnprocessableResponseDto } from './dto/sync-errors.dto';
import { SyncEventsService } from './events/sync-events.service';
import { SyncService } from './sync.service';
import { PullQueryPipe } from './validation/pull-query.pipe';
import type { PullRequest } from './validation/pull-query.pipe';
import { PushBodyPipe } from './validation/push-body.pipe';
import type { PushRequest } from './validation/push-body.pipe';

@ApiTags('sync')
@DeviceAuth()
@ApiBadRequestResponse({
  type: ErrorResponseDto,
  description: 'Every offending path, nothing applied',
})
@Controller('sync')
export class SyncController {
  constructor(
    private readonly sync: SyncService,
    private readonly liveChanges: SyncEventsService,
  ) {}

  @Get('pull')
  @ApiOperation({
    summary: 'Pull changes since last_pulled_at',
    description:
      'Leave last_pulled_at empty for a first sync (every live record). Pass the returned `timestamp` back next time.',
  })
  @ApiQuery({ type: PullQueryDto })
  @ApiOkResponse({ type: PullResponseDto })
  @Header('Content-Type', 'application/json; charset=utf-8')
  async pull(
    @CurrentDevice() device: DeviceEntity,
    @Query(PullQueryPipe) query: PullRequest,
    @RequestLog() log: Logger,
  ): Promise<Buffer | Readable> {
    // JSON text PostgreSQL rendered: one chunk (sent with its length, compressed when the client
    // accepts it and it is over 1 KiB), or chunks as the rows come (compressed as they go).
    const body = await this.sync.pull(device, query, log);
    return body.kind === 'whole' ? body.chunk : body.stream;
  }

  @Get('events')
  @Header('Content-Type', 'text/event-stream; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  // Proxies (nginx) would otherwise hold the events back in their buffers.
  @Header('X-Accel-Buffering', 'no')
  @ApiOperation({
    summary: 'Live changes (Server-Sent Events)',
    description:
      'A text/event-stream that stays open: after a push of any device of the account commits, ' +
      '`event: changes` with `data: {"timestamp": <the account clock>}` (sync then). A `: ping` ' +
      'comment comes at least every 30 s. The stream ends when the token expires or the device ' +
      'is revoked; reconnect with a fresh token. Swagger UI cannot show a stream: use curl -N.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'The event stream',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example: ': connected\n\nevent: changes\ndata: {"timestamp":1764115260000}\n\n: ping\n\n',
      },
    },
  })
  @ApiTooManyRequestsResponse({
    type: ErrorResponseDto,
    description: 'Too many open streams for this device (SYNC_EVENTS_PER_DEVICE)',
  })
  events(
    @CurrentDevice() device: DeviceEntity,
    @TokenExpiresAt() tokenExpiresAt: number,
  ): Readable {
    return this.liveChanges.open(device, tokenExpiresAt);
  }

  @Post('push')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Push local changes (all or nothing)',
    description:
      'The example succeeds as-is (and again when replayed). To see a 409: push it once, change a value ' +
      '(e.g. target_score) and push again with the same old last_pulled_at.',
  })
  @ApiBody({ type: PushBodyDto })
  @ApiOkResponse({ type: PushResponseDto })
  @ApiConflictResponse({
    type: ConflictResponseDto,
    description: 'Records changed after last_pulled_at: pull, then push again',
  })
  @ApiUnprocessableEntityResponse({
    type: UnprocessableResponseDto,
    description: 'A parent the device never had',
  })
  @ApiPayloadTooLargeResponse({
    type: ErrorResponseDto,
    description: 'Body or record count over the limit: split the push',
  })
  push(
    @CurrentDevice() device: DeviceEntity,
    @Body(PushBodyPipe) body: PushRequest,
    @RequestLog() log: Logger,
  ): Promise<PushResponseDto> {
    return this.sync.push(device, body, log);
  }
}

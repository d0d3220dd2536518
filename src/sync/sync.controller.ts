import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentDevice } from '../devices/decorators/current-device.decorator';
import { DeviceEntity } from '../devices/entities/device.entity';
import { DeviceJwtGuard } from '../devices/guards/device-jwt.guard';
import { PullQueryDto } from './dto/pull-query.dto';
import { PullResponseDto } from './dto/pull-response.dto';
import { PushBodyDto } from './dto/push-body.dto';
import { PushResponseDto } from './dto/push-response.dto';
import { SyncService } from './sync.service';
import { PushBodyPipe, PushRequest } from './validation/push-body.pipe';

@ApiTags('sync')
@ApiBearerAuth()
@UseGuards(DeviceJwtGuard)
@Controller('sync')
export class SyncController {
  constructor(private readonly sync: SyncService) {}

  @Get('pull')
  // The body is JSON text built by PostgreSQL; it is sent as it is.
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOkResponse({ type: PullResponseDto })
  pull(@CurrentDevice() device: DeviceEntity, @Query() query: PullQueryDto): Promise<string> {
    return this.sync.pull(device.id, query);
  }

  @Post('push')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: PushResponseDto })
  push(
    @CurrentDevice() device: DeviceEntity,
    @Body(PushBodyPipe) body: PushBodyDto | PushRequest,
  ): Promise<PushResponseDto> {
    return this.sync.push(device.id, body as PushRequest);
  }
}

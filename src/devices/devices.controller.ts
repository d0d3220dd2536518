import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { DEVICE_THROTTLER, ThrottlingGuard } from '../common/throttling/throttling.guard';
import { CurrentDevice } from './decorators/current-device.decorator';
import { DeviceAuth } from './decorators/device-auth.decorator';
import { DevicesService } from './devices.service';
import { DeviceProfileDto } from './dto/device-profile.dto';
import { DeviceTokenDto } from './dto/device-token.dto';
import { RegisterDeviceDto } from './dto/register-device.dto';
import { DeviceEntity } from './entities/device.entity';

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  @UseGuards(ThrottlingGuard)
  @SkipThrottle({ [DEVICE_THROTTLER]: true })
  @ApiOperation({ summary: 'Register this phone; use access_token with "Authorize"' })
  @ApiCreatedResponse({ type: DeviceTokenDto, description: 'The new device and its bearer token' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiTooManyRequestsResponse({
    type: ErrorResponseDto,
    description: 'Too many registrations from this IP',
  })
  register(@Body() dto: RegisterDeviceDto): Promise<DeviceTokenDto> {
    return this.devices.register(dto);
  }

  @Get('me')
  @DeviceAuth()
  @ApiOperation({ summary: 'The device behind the token' })
  @ApiOkResponse({ type: DeviceProfileDto })
  me(@CurrentDevice() device: DeviceEntity): DeviceProfileDto {
    return DeviceProfileDto.fromEntity(device);
  }

  @Post('token/refresh')
  @HttpCode(HttpStatus.OK)
  @DeviceAuth()
  @ApiOperation({
    summary: 'A new token for this device',
    description: 'The old token keeps working until it expires or the device is revoked.',
  })
  @ApiOkResponse({ type: DeviceTokenDto })
  refresh(@CurrentDevice() device: DeviceEntity): Promise<DeviceTokenDto> {
    return this.devices.issueToken(device.id);
  }

  @Post('revoke')
  @HttpCode(HttpStatus.NO_CONTENT)
  @DeviceAuth()
  @ApiOperation({
    summary: 'Revoke this device',
    description: 'Every token of the device answers 401 from now on. Its synced data is kept.',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  revoke(@CurrentDevice() device: DeviceEntity): Promise<void> {
    return this.devices.revoke(device.id);
  }
}

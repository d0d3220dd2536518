import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { DEVICE_THROTTLER, ThrottlingGuard } from '../common/throttling/throttling.guard';
import { AccountService } from './account.service';
import { CurrentDevice } from './decorators/current-device.decorator';
import { DeviceAuth } from './decorators/device-auth.decorator';
import { DeviceSessionsService } from './device-sessions.service';
import { DevicesService } from './devices.service';
import { DeviceProfileDto } from './dto/device-profile.dto';
import { DeviceTokenDto } from './dto/device-token.dto';
import { PairingCodeDto } from './dto/pairing-code.dto';
import { RefreshSessionDto } from './dto/refresh-session.dto';
import { RegisterDeviceDto } from './dto/register-device.dto';
import { DeviceEntity } from './entities/device.entity';

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly account: AccountService,
    private readonly sessions: DeviceSessionsService,
  ) {}

  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  @UseGuards(ThrottlingGuard)
  @SkipThrottle({ [DEVICE_THROTTLER]: true })
  @ApiOperation({
    summary: 'Register this phone; use access_token with "Authorize"',
    description:
      'Without a code the device gets a new account of its own. With `pairing_code` (made by a ' +
      'device of the account) or `recovery_code` it joins that account and its first pull ' +
      "returns the account's data.",
  })
  @ApiBody({
    type: RegisterDeviceDto,
    examples: {
      'new account': { value: { name: "Ana's phone", platform: 'ios' } },
      'join with a pairing code': {
        value: { name: "Ana's tablet", platform: 'android', pairing_code: 'paste the code here' },
      },
      'restore with a recovery code': {
        value: { name: "Ana's new phone", platform: 'ios', recovery_code: 'paste the code here' },
      },
    },
  })
  @ApiCreatedResponse({ type: DeviceTokenDto, description: 'The new device and its bearer token' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description: 'The code is unknown, expired, used or replaced (one answer for all of these)',
  })
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

  @Post('pairing-codes')
  @HttpCode(HttpStatus.CREATED)
  @DeviceAuth({ credentials: true })
  @ApiOperation({
    summary: 'A code for adding another device to this account',
    description:
      'Show it on this device; the new install registers with it as `pairing_code`. It works ' +
      'once, for 10 minutes.',
  })
  @ApiCreatedResponse({ type: PairingCodeDto })
  createPairingCode(@CurrentDevice() device: DeviceEntity): Promise<PairingCodeDto> {
    return this.account.createPairingCode(device);
  }

  @Post('token')
  @HttpCode(HttpStatus.OK)
  @UseGuards(ThrottlingGuard)
  @SkipThrottle({ [DEVICE_THROTTLER]: true })
  @ApiOperation({
    summary: 'Exchange a refresh token for new tokens',
    description:
      'Answers a new access token and a new refresh token for the same device (each use ' +
      'replaces the refresh token). If the answer is lost, the same refresh token works again ' +
      'until the new one is used. A refresh token that was already replaced and is presented ' +
      'again signs the device out (every token of it answers 401).',
  })
  @ApiOkResponse({ type: DeviceTokenDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiUnauthorizedResponse({
    type: ErrorResponseDto,
    description: 'Unknown, replaced or idle refresh token, or a revoked device (one answer)',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorResponseDto,
    description: 'Too many refreshes from this IP',
  })
  exchange(@Body() dto: RefreshSessionDto): Promise<DeviceTokenDto> {
    return this.sessions.refresh(dto.refresh_token);
  }

  @Post('token/refresh')
  @HttpCode(HttpStatus.OK)
  @DeviceAuth()
  @ApiOperation({
    summary: 'New tokens for this device, with its access token',
    description:
      'For apps from before refresh tokens: answers the same body as POST /devices/token, ' +
      "refresh_token included, which replaces the device's current one. Earlier access " +
      'tokens keep working until they expire or the device is revoked.',
  })
  @ApiOkResponse({ type: DeviceTokenDto })
  refresh(@CurrentDevice() device: DeviceEntity): Promise<DeviceTokenDto> {
    return this.sessions.restart(device);
  }

  @Post('revoke')
  @HttpCode(HttpStatus.NO_CONTENT)
  @DeviceAuth()
  @ApiOperation({
    summary: 'Revoke this device',
    description:
      'Every token of the device answers 401 from now on; the account keeps its data. The same ' +
      'as DELETE /account/devices/{its id}.',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  revoke(@CurrentDevice() device: DeviceEntity): Promise<void> {
    return this.account.revokeDevice(device, device.id);
  }
}

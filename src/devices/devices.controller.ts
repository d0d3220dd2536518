import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { CurrentDevice } from './decorators/current-device.decorator';
import { DevicesService } from './devices.service';
import { DeviceProfileDto } from './dto/device-profile.dto';
import { DeviceTokenDto } from './dto/device-token.dto';
import { RegisterDeviceDto } from './dto/register-device.dto';
import { DeviceEntity } from './entities/device.entity';
import { DeviceJwtGuard } from './guards/device-jwt.guard';

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Register this phone; use access_token with "Authorize"' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiCreatedResponse({ type: DeviceTokenDto, description: 'The new device and its bearer token' })
  register(@Body() dto: RegisterDeviceDto): Promise<DeviceTokenDto> {
    return this.devices.register(dto);
  }

  @Get('me')
  @ApiOperation({ summary: 'The device behind the token' })
  @ApiBearerAuth()
  @ApiUnauthorizedResponse({ type: ErrorResponseDto })
  @UseGuards(DeviceJwtGuard)
  @ApiOkResponse({ type: DeviceProfileDto })
  me(@CurrentDevice() device: DeviceEntity): DeviceProfileDto {
    return DeviceProfileDto.fromEntity(device);
  }
}

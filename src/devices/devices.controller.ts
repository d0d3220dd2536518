import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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
  @ApiCreatedResponse({ type: DeviceTokenDto, description: 'The new device and its bearer token' })
  register(@Body() dto: RegisterDeviceDto): Promise<DeviceTokenDto> {
    return this.devices.register(dto);
  }

  @Get('me')
  @ApiBearerAuth()
  @UseGuards(DeviceJwtGuard)
  @ApiOkResponse({ type: DeviceProfileDto })
  me(@CurrentDevice() device: DeviceEntity): DeviceProfileDto {
    return DeviceProfileDto.fromEntity(device);
  }
}

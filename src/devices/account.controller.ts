import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { AccountService } from './account.service';
import { CurrentDevice } from './decorators/current-device.decorator';
import { DeviceAuth } from './decorators/device-auth.decorator';
import { AccountDeviceDto } from './dto/account-device.dto';
import { RecoveryCodeDto } from './dto/recovery-code.dto';
import { DeviceEntity } from './entities/device.entity';

@ApiTags('account')
@Controller('account')
export class AccountController {
  constructor(private readonly account: AccountService) {}

  @Post('recovery-code')
  @HttpCode(HttpStatus.CREATED)
  @DeviceAuth({ credentials: true })
  @ApiOperation({
    summary: 'A new recovery code for this account (the old one stops working)',
    description:
      'Show it to the user once, to keep: registering with it on a new phone restores the account.',
  })
  @ApiCreatedResponse({ type: RecoveryCodeDto })
  createRecoveryCode(@CurrentDevice() device: DeviceEntity): Promise<RecoveryCodeDto> {
    return this.account.createRecoveryCode(device);
  }

  @Get('devices')
  @DeviceAuth()
  @ApiOperation({ summary: "This account's devices (revoked ones are not listed)" })
  @ApiOkResponse({ type: AccountDeviceDto, isArray: true })
  listDevices(@CurrentDevice() device: DeviceEntity): Promise<AccountDeviceDto[]> {
    return this.account.listDevices(device);
  }

  @Delete('devices/:device_id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @DeviceAuth()
  @ApiOperation({
    summary: 'Revoke a device of this account (this one included)',
    description: "Its tokens answer 401 from now on. The account's data is kept.",
  })
  @ApiParam({ name: 'device_id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({
    type: ErrorResponseDto,
    description: 'Not a live device of this account',
  })
  revokeDevice(
    @CurrentDevice() device: DeviceEntity,
    @Param('device_id') deviceId: string,
  ): Promise<void> {
    return this.account.revokeDevice(device, deviceId);
  }
}

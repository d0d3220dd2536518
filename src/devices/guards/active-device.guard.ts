import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { deviceRefused } from '../device-refused';
import { DevicesService } from '../devices.service';
import { DeviceEntity } from '../entities/device.entity';
import { AuthenticatedDevice } from '../strategies/types/authenticated-device.type';

/**
 * After DeviceJwtGuard: loads the token's device, answers 401 when it is gone or revoked, and
 * puts the row in place of the bare id for @CurrentDevice().
 */
@Injectable()
export class ActiveDeviceGuard implements CanActivate {
  constructor(private readonly devices: DevicesService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<{ user: AuthenticatedDevice | DeviceEntity }>();
    const device = await this.devices.findActive(request.user.id);
    if (!device) throw deviceRefused();
    await this.devices.touch(device);
    request.user = device;
    return true;
  }
}

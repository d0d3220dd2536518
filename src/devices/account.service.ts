import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, Not, Repository } from 'typeorm';
import { newPairingCode, newRecoveryCode, normalizeCode } from './credentials/account-codes';
import { hashSecret } from './credentials/secret-hash';
import { CHANNELS, notify } from '../database/notifications';
import { isUuid } from './devices.service';
import { AccountDeviceDto } from './dto/account-device.dto';
import { PairingCodeDto } from './dto/pairing-code.dto';
import { RecoveryCodeDto } from './dto/recovery-code.dto';
import { AccountEntity } from './entities/account.entity';
import { DeviceEntity } from './entities/device.entity';
import { PairingCodeEntity } from './entities/pairing-code.entity';

/** How long a pairing code works. */
export const PAIRING_CODE_TTL_MS = 10 * 60_000;

/** What a device may do for its account: let other devices in, list them, revoke them. */
@Injectable()
export class AccountService {
  constructor(
    @InjectRepository(AccountEntity) private readonly accounts: Repository<AccountEntity>,
    @InjectRepository(DeviceEntity) private readonly devices: Repository<DeviceEntity>,
    @InjectRepository(PairingCodeEntity) private readonly codes: Repository<PairingCodeEntity>,
  ) {}

  /** A code that lets one more device into the caller's account, once, for 10 minutes. */
  async createPairingCode(device: DeviceEntity): Promise<PairingCodeDto> {
    const code = newPairingCode();
    const expiresAt = new Date(Date.now() + PAIRING_CODE_TTL_MS);
    // The account's spent codes are of no more use: each new code clears them away.
    await this.codes.delete([
      { accountId: device.accountId, usedAt: Not(IsNull()) },
      { accountId: device.accountId, expiresAt: LessThan(new Date()) },
    ]);
    await this.codes.insert({
      codeHash: hashSecret(normalizeCode(code)!),
      accountId: device.accountId,
      expiresAt,
    });
    return { code, expires_at: expiresAt.getTime() };
  }

  /** A new recovery code for the caller's account; the one before stops working. */
  async createRecoveryCode(device: DeviceEntity): Promise<RecoveryCodeDto> {
    const code = newRecoveryCode();
    await this.accounts.update(
      { id: device.accountId },
      { recoveryCodeHash: hashSecret(normalizeCode(code)!) },
    );
    return { recovery_code: code };
  }

  /** The account's live devices, oldest first. */
  async listDevices(device: DeviceEntity): Promise<AccountDeviceDto[]> {
    const devices = await this.devices.find({
      where: { accountId: device.accountId, revokedAt: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return devices.map((each) => AccountDeviceDto.fromEntity(each, device.id));
  }

  /**
   * Revokes a live device of the caller's account (the caller itself included): its tokens
   * answer 401 from now on, and the account keeps its data. 404 for any other id.
   */
  async revokeDevice(device: DeviceEntity, id: string): Promise<void> {
    const { affected } = isUuid(id)
      ? await this.devices.update(
          { id, accountId: device.accountId, revokedAt: IsNull() },
          { revokedAt: new Date() },
        )
      : { affected: 0 };
    if (!affected) throw new NotFoundException('No such device in this account');
    // Its open event streams end, on every instance.
    await notify(this.accounts.manager.connection, CHANNELS.revoked, id);
  }
}

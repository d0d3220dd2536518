import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource, EntityManager } from 'typeorm';
import { AllConfigType } from '../config/config.type';
import { CHANNELS, notify } from '../database/notifications';
import { newRefreshToken, sessionRefused } from './credentials/refresh-token';
import { hashSecret, sameHash } from './credentials/secret-hash';
import { DevicesService } from './devices.service';
import { DeviceTokenDto } from './dto/device-token.dto';
import { DeviceEntity } from './entities/device.entity';

type Rotation =
  | { kind: 'rotated'; device: Pick<DeviceEntity, 'id' | 'accountId'> }
  | { kind: 'refused' }
  | { kind: 'reused'; deviceId: string };

/**
 * Device sessions: refresh tokens that rotate on every use, so a device keeps its identity
 * however long it stays offline, and a copied token is noticed.
 *
 * The rules, for a presented refresh token of a device that is not revoked:
 * - the device's current token (the newest): a new one replaces it;
 * - the token the current one replaced, while the current one was never presented (the answer
 *   that carried it was lost): a new one replaces the current one, and the presented token stays
 *   the one accepted as a retry;
 * - any older token of the device: somebody else holds a copy, so the device is revoked at once;
 * - unknown, or the current token unused for SESSION_IDLE_DAYS: refused.
 * Each refresh locks the device row first, so a device's refreshes run one at a time and each
 * sees what the one before left: of two racing with the same token, the second is taken as a
 * retry of the first, and only the token it answers stays valid.
 */
@Injectable()
export class DeviceSessionsService {
  private readonly logger = new Logger(DeviceSessionsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly devices: DevicesService,
    private readonly config: ConfigService<AllConfigType, true>,
  ) {}

  /** POST /devices/token: new tokens for the device of `presented`, or 401. */
  async refresh(presented: string): Promise<DeviceTokenDto> {
    const hash = hashSecret(presented);
    const next = newRefreshToken();
    // One transaction: the device row's lock must hold from the reads to the writes.
    const outcome = await this.dataSource.transaction(async (manager): Promise<Rotation> => {
      const [token] = await manager.query<Array<{ device_id: string }>>(
        'SELECT "device_id" FROM "refresh_tokens" WHERE "token_hash" = $1',
        [hash],
      );
      if (!token) return { kind: 'refused' };
      const device = await this.lockDevice(manager, token.device_id);
      if (!device) return { kind: 'refused' };
      const [current] = await manager.query<
        Array<{ token_hash: Buffer; replaces: Buffer | null; idle: boolean }>
      >(
        `SELECT "token_hash", "replaces", "created_at" < now() - make_interval(days => $2) AS "idle"
         FROM "refresh_tokens" WHERE "device_id" = $1 AND "replaced_at" IS NULL`,
        [device.id, this.idleDays()],
      );
      if (!sameHash(current?.token_hash, hash) && !sameHash(current?.replaces, hash)) {
        await manager.query('UPDATE "devices" SET "revoked_at" = now() WHERE "id" = $1', [
          device.id,
        ]);
        return { kind: 'reused', deviceId: device.id };
      }
      if (current.idle) return { kind: 'refused' };
      // A retry keeps the presented token as the one replaced: accepted again until the new
      // one is presented.
      await this.replaceCurrent(manager, device.id, next.hash, hash);
      return { kind: 'rotated', device };
    });
    if (outcome.kind === 'reused') {
      this.logger.warn(
        `device ${outcome.deviceId} revoked: a refresh token it had already replaced was presented again`,
      );
      await notify(this.dataSource, CHANNELS.revoked, outcome.deviceId);
    }
    if (outcome.kind !== 'rotated') throw sessionRefused();
    return this.devices.tokens(outcome.device, next.token);
  }

  /**
   * POST /devices/token/refresh (the access token is the credential): new tokens, and a refresh
   * token that replaces the device's current one, if any. Installed apps from before refresh
   * tokens get their first one here.
   */
  async restart(device: DeviceEntity): Promise<DeviceTokenDto> {
    const next = newRefreshToken();
    const locked = await this.dataSource.transaction(async (manager) => {
      const locked = await this.lockDevice(manager, device.id);
      if (locked) await this.replaceCurrent(manager, device.id, next.hash, null);
      return locked;
    });
    // Revoked since the guard let the request in.
    if (!locked) throw sessionRefused();
    return this.devices.tokens(locked, next.token);
  }

  /** The device row, locked until the transaction ends; null when it is revoked. */
  private async lockDevice(
    manager: EntityManager,
    id: string,
  ): Promise<Pick<DeviceEntity, 'id' | 'accountId'> | null> {
    const [row] = await manager.query<Array<{ id: string; account_id: string; revoked: boolean }>>(
      `SELECT "id", "account_id", "revoked_at" IS NOT NULL AS "revoked" FROM "devices"
       WHERE "id" = $1 FOR UPDATE`,
      [id],
    );
    return row && !row.revoked ? { id: row.id, accountId: row.account_id } : null;
  }

  /**
   * `hash` becomes the device's current token, replacing the current one. Replaced tokens are
   * kept (to recognise a copy) until they are older than the idle limit, when a copy presented
   * would be refused anyway.
   */
  private async replaceCurrent(
    manager: EntityManager,
    deviceId: string,
    hash: Buffer,
    replaces: Buffer | null,
  ): Promise<void> {
    await manager.query(
      `UPDATE "refresh_tokens" SET "replaced_at" = now()
       WHERE "device_id" = $1 AND "replaced_at" IS NULL`,
      [deviceId],
    );
    await manager.query(
      `INSERT INTO "refresh_tokens" ("token_hash", "device_id", "replaces") VALUES ($1, $2, $3)`,
      [hash, deviceId, replaces],
    );
    await manager.query(
      `DELETE FROM "refresh_tokens"
       WHERE "device_id" = $1 AND "replaced_at" < now() - make_interval(days => $2)`,
      [deviceId, this.idleDays()],
    );
  }

  private idleDays(): number {
    return this.config.get('devices.sessionIdleDays', { infer: true });
  }
}

import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { IsNull, Repository } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AllConfigType } from '../config/config.type';
import { DeviceTokenDto } from './dto/device-token.dto';
import { RegisterDeviceDto } from './dto/register-device.dto';
import { DeviceEntity } from './entities/device.entity';
import { DeviceJwtPayload } from './strategies/types/device-jwt-payload.type';

/** `last_seen_at` is written at most this often per device, not on every request. */
const LAST_SEEN_RESOLUTION_MS = 60_000;
/** The database's clock in epoch milliseconds: one clock for every instance of the app. */
export const NOW_MS_SQL = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Device ids are uuids: anything else is refused before it reaches a uuid column. */
export const isUuid = (value: string): boolean => UUID.test(value);

@Injectable()
export class DevicesService {
  constructor(
    @InjectRepository(DeviceEntity) private readonly devices: Repository<DeviceEntity>,
    private readonly jwt: JwtService,
    private readonly config: ConfigService<AllConfigType, true>,
  ) {}

  async register(dto: RegisterDeviceDto): Promise<DeviceTokenDto> {
    const { identifiers } = await this.devices.insert({
      name: dto.name ?? null,
      platform: dto.platform ?? null,
      // The sync clock starts at registration, so even a first pull answers a timestamp > 0.
      lastStamp: () => NOW_MS_SQL,
    });
    return this.issueToken(identifiers[0].id as string);
  }

  async issueToken(deviceId: string): Promise<DeviceTokenDto> {
    const expiresIn = this.config.get('devices.jwtExpiresIn', { infer: true });
    const payload: DeviceJwtPayload = { sub: deviceId };
    return {
      device_id: deviceId,
      access_token: await this.jwt.signAsync(payload, { expiresIn, algorithm: 'HS256' }),
      token_type: 'Bearer',
      expires_in: expiresIn,
    };
  }

  /**
   * The device behind a token, or null when it does not exist or was revoked. The guard asks on
   * every request, so this is a prepared statement run straight on the pool: a TypeORM find
   * builds and translates its query each time (measured: ~5% of the server's CPU under load).
   */
  async findActive(id: string): Promise<DeviceEntity | null> {
    if (!isUuid(id)) return null;
    const pool = (this.devices.manager.connection.driver as PostgresDriver).master as Pool;
    const { rows } = await pool.query<Partial<DeviceEntity>>({
      name: 'device_find_active',
      text: (this.findActiveSql ??= `SELECT ${this.devices.metadata.columns
        .map((column) => `"${column.databaseName}" AS "${column.propertyName}"`)
        .join(', ')} FROM "devices" WHERE "id" = $1 AND "revoked_at" IS NULL`),
      values: [id],
    });
    return rows.length ? Object.assign(new DeviceEntity(), rows[0]) : null;
  }

  /** Every column, named as the entity's properties, so a row is a DeviceEntity as it is. */
  private findActiveSql?: string;

  async revoke(id: string): Promise<void> {
    await this.devices.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /**
   * Records when the device was last seen, at most once a minute. SKIP LOCKED: while a push of
   * the device holds its row, the write is skipped (the next request retries) instead of making
   * this request wait for the push to commit. `device` is the row as read (the entity, or the
   * pull's own read of it); its `lastSeenAt` is updated when written.
   */
  async touch(device: Pick<DeviceEntity, 'id' | 'lastSeenAt'>): Promise<void> {
    const now = new Date();
    const seen = device.lastSeenAt;
    if (seen && now.getTime() - seen.getTime() < LAST_SEEN_RESOLUTION_MS) return;
    await this.devices.query(
      `UPDATE "devices" SET "last_seen_at" = $2
       WHERE "id" = (SELECT "id" FROM "devices" WHERE "id" = $1 FOR UPDATE SKIP LOCKED)`,
      [device.id, now],
    );
    device.lastSeenAt = now;
  }
}

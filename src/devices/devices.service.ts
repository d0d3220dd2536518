import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { Repository } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AllConfigType } from '../config/config.type';
import { codeRefused } from './credentials/code-refused';
import { newRefreshToken } from './credentials/refresh-token';
import { normalizeCode } from './credentials/account-codes';
import { hashSecret } from './credentials/secret-hash';
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

/**
 * The new device ($1 name, $2 platform) in the account `account` finds `FROM` the rows of `from`,
 * and its first refresh token ($3, the hash), after the statement's own CTEs.
 */
const newDeviceSql = (ctes: string, account: string, from: string) => `
  WITH ${ctes}
  "device" AS (
    INSERT INTO "devices" ("account_id", "name", "platform") SELECT ${account}, $1, $2 FROM ${from}
    RETURNING "id", "account_id"),
  "token" AS (INSERT INTO "refresh_tokens" ("token_hash", "device_id") SELECT $3, "id" FROM "device")
  SELECT "id", "account_id" FROM "device"`;

/** A device in an account of its own, whose clock starts now. */
const NEW_ACCOUNT_SQL = newDeviceSql(
  `"account" AS (INSERT INTO "accounts" ("last_stamp") VALUES (${NOW_MS_SQL}) RETURNING "id"),`,
  '"id"',
  '"account"',
);

/** $4 the pairing code's hash: used up here, if it is live. */
const PAIRING_SQL = newDeviceSql(
  `"code" AS (
    UPDATE "pairing_codes" SET "used_at" = now()
    WHERE "code_hash" = $4 AND "used_at" IS NULL AND "expires_at" > now()
    RETURNING "account_id"),`,
  '"account_id"',
  '"code"',
);

/** $4 the recovery code's hash. */
const RECOVERY_SQL = newDeviceSql('', '"id"', '"accounts" WHERE "recovery_code_hash" = $4');

@Injectable()
export class DevicesService {
  constructor(
    @InjectRepository(DeviceEntity) private readonly devices: Repository<DeviceEntity>,
    private readonly jwt: JwtService,
    private readonly config: ConfigService<AllConfigType, true>,
  ) {}

  /**
   * A new device, with its first refresh token: in a new account, or joining the account of a
   * pairing or recovery code (403 for a code that is not valid). Each is one statement, so a code
   * is used up only by the device it let in.
   */
  async register(dto: RegisterDeviceDto): Promise<DeviceTokenDto> {
    // A code given as null is no code (the DTO lets at most one of them be set).
    const [sql, typed] =
      dto.pairing_code != null
        ? [PAIRING_SQL, dto.pairing_code]
        : dto.recovery_code != null
          ? [RECOVERY_SQL, dto.recovery_code]
          : [NEW_ACCOUNT_SQL, undefined];
    const refresh = newRefreshToken();
    const values: unknown[] = [dto.name ?? null, dto.platform ?? null, refresh.hash];
    if (typed !== undefined) {
      const code = normalizeCode(typed);
      if (code === null) throw codeRefused();
      values.push(hashSecret(code));
    }
    const [device] = await this.devices.query<Array<{ id: string; account_id: string }>>(
      sql,
      values,
    );
    if (!device) throw codeRefused();
    return this.tokens({ id: device.id, accountId: device.account_id }, refresh.token);
  }

  /** The answer of every route that hands out tokens: a new access token and `refreshToken`. */
  async tokens(
    device: Pick<DeviceEntity, 'id' | 'accountId'>,
    refreshToken: string,
  ): Promise<DeviceTokenDto> {
    const expiresIn = this.config.get('devices.jwtExpiresIn', { infer: true });
    const payload: DeviceJwtPayload = { sub: device.id };
    return {
      device_id: device.id,
      account_id: device.accountId,
      access_token: await this.jwt.signAsync(payload, { expiresIn, algorithm: 'HS256' }),
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: refreshToken,
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

  /**
   * Records when the device was last seen, at most once a minute. SKIP LOCKED: while another
   * request writes the row, this write is skipped (a later request retries) instead of waiting.
   * `device` is the row as read by the guard; its `lastSeenAt` is updated when written.
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

import { apiRequest, ApiOptions, SyncHttpError } from './http';
import type { SyncOptions } from './sync';

/** What the device keeps of its registration (through the app's SessionStorage). */
export type DeviceSession = {
  deviceId: string;
  /** The account whose data this device syncs, shared with its paired devices. */
  accountId: string;
  accessToken: string;
  /**
   * Epoch ms after which the access token is not used any more: a little before the server
   * would refuse it (a quarter of its lifetime, at most 30 s), so that it does not run out in
   * flight.
   */
  accessTokenExpiresAt: number;
  /**
   * Exchanged for new tokens when the access token runs out (each exchange replaces it). Absent
   * in a session stored by an app version from before refresh tokens: the first refresh then
   * uses the access token, and brings one.
   */
  refreshToken?: string;
};

/**
 * Where the app keeps the session between launches. Its tokens are credentials: on React Native
 * keep them in the platform's secure storage (the iOS Keychain and Android Keystore, e.g. through
 * `expo-secure-store` or `react-native-keychain`), not in AsyncStorage.
 */
export interface SessionStorage {
  load(): Promise<DeviceSession | null>;
  save(session: DeviceSession): Promise<void>;
  clear(): Promise<void>;
}

/** A SessionStorage in memory only (tests; an app that registers at every launch). */
export function memorySessionStorage(): SessionStorage {
  let stored: DeviceSession | null = null;
  return {
    load: async () => stored,
    save: async (session) => void (stored = session),
    clear: async () => void (stored = null),
  };
}

/** A live device of the account, as listed by the server. */
export type AccountDevice = {
  deviceId: string;
  name: string | null;
  platform: string | null;
  createdAt: string;
  lastSeenAt: string | null;
  /** This is the device that asked. */
  current: boolean;
};

/** Thrown when a call needs a session and the device has none (register it first). */
export class NotRegisteredError extends Error {
  override readonly name = 'NotRegisteredError';

  constructor() {
    super('This device is not registered: call register() first');
  }
}

/**
 * The server refused the device's refresh token: the device was revoked (from another device,
 * or because a copy of its token was used). Show `message` and offer to pair the device again;
 * its local data is still there, and the session is cleared.
 */
export class DeviceSignedOutError extends Error {
  override readonly name = 'DeviceSignedOutError';

  constructor() {
    super('This device was signed out; pair it again');
  }
}

/** An access token is refreshed this long before it runs out, at most. */
const EXPIRY_MARGIN_MS = 30_000;

type TokenBody = {
  device_id: string;
  account_id: string;
  access_token: string;
  expires_in: number;
  refresh_token: string;
};

/**
 * The device's identity on the sync server: registering (a new account, or joining one with a
 * pairing or recovery code), the codes that let other devices in, and the account's devices.
 * Use `syncOptions()` for syncDatabase.
 */
export class AccountClient {
  /** The refresh under way: concurrent callers share it. */
  private refreshing?: Promise<DeviceSession>;

  constructor(private readonly options: ApiOptions & { storage: SessionStorage }) {}

  /**
   * Registers this install and stores its session. Without a code it gets an account of its
   * own; with `pairingCode` (shown by another device of the account) or `recoveryCode` (kept by
   * the user) it joins that account, and its first sync brings the account's data. A code that
   * is not valid (mistyped, expired, used or replaced) throws SyncHttpError with status 403.
   */
  async register(
    registration: {
      name?: string;
      platform?: string;
      pairingCode?: string;
      recoveryCode?: string;
    } = {},
  ): Promise<DeviceSession> {
    const body = (await apiRequest(this.options, 'Registration', '/api/v1/devices/register', {
      method: 'POST',
      json: {
        name: registration.name,
        platform: registration.platform,
        pairing_code: registration.pairingCode,
        recovery_code: registration.recoveryCode,
      },
    })) as TokenBody;
    const session = sessionOf(body);
    await this.options.storage.save(session);
    return session;
  }

  /** The stored session, or null before the first registration. */
  session(): Promise<DeviceSession | null> {
    return this.options.storage.load();
  }

  /** The access token for the next request, refreshed first when it has run out. */
  async accessToken(): Promise<string> {
    const session = await this.options.storage.load();
    if (!session) throw new NotRegisteredError();
    if (Date.now() < session.accessTokenExpiresAt) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  /**
   * New tokens for this device, stored before they are returned. One refresh at a time: a call
   * made while one runs gets its result. A refused refresh token clears the session and throws
   * DeviceSignedOutError; any other failure (no network, a lost answer) leaves the stored
   * session as it was, and the next call tries again with the same token, which the server
   * accepts until its replacement is used.
   */
  refresh(): Promise<DeviceSession> {
    this.refreshing ??= this.exchange().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** A code to show on this device so that a new install joins the account (10 minutes, once). */
  async createPairingCode(): Promise<{ code: string; expiresAt: number }> {
    const body = (await this.authorized('Pairing code', '/api/v1/devices/pairing-codes', {
      method: 'POST',
    })) as { code: string; expires_at: number };
    return { code: body.code, expiresAt: body.expires_at };
  }

  /** A new recovery code for the user to keep (the previous one stops working). */
  async createRecoveryCode(): Promise<string> {
    const body = (await this.authorized('Recovery code', '/api/v1/account/recovery-code', {
      method: 'POST',
    })) as { recovery_code: string };
    return body.recovery_code;
  }

  /** The account's live devices. */
  async listDevices(): Promise<AccountDevice[]> {
    const body = (await this.authorized('Device list', '/api/v1/account/devices')) as Array<{
      device_id: string;
      name: string | null;
      platform: string | null;
      created_at: string;
      last_seen_at: string | null;
      current: boolean;
    }>;
    return body.map((device) => ({
      deviceId: device.device_id,
      name: device.name,
      platform: device.platform,
      createdAt: device.created_at,
      lastSeenAt: device.last_seen_at,
      current: device.current,
    }));
  }

  /** Revokes a device of the account (this one too: then clear the session). */
  async revokeDevice(deviceId: string): Promise<void> {
    await this.authorized(
      'Revoking a device',
      `/api/v1/account/devices/${encodeURIComponent(deviceId)}`,
      { method: 'DELETE' },
    );
  }

  /**
   * The options syncDatabase needs: the token from the stored session, refreshed when it has
   * run out or the server answers 401.
   */
  syncOptions(): SyncOptions {
    return {
      apiUrl: this.options.apiUrl,
      fetch: this.options.fetch,
      getToken: () => this.accessToken(),
      onUnauthorized: async () => (await this.refresh()).accessToken,
    };
  }

  /** A call with the access token, retried once with new tokens after a 401. */
  private async authorized(what: string, path: string, init: RequestInit = {}): Promise<unknown> {
    try {
      return await apiRequest(this.options, what, path, {
        ...init,
        token: await this.accessToken(),
      });
    } catch (error) {
      if (!(error instanceof SyncHttpError && error.status === 401)) throw error;
      const { accessToken } = await this.refresh();
      return apiRequest(this.options, what, path, { ...init, token: accessToken });
    }
  }

  private async exchange(): Promise<DeviceSession> {
    const session = await this.options.storage.load();
    if (!session) throw new NotRegisteredError();
    let body: TokenBody;
    try {
      body = (
        session.refreshToken
          ? await apiRequest(this.options, 'Token refresh', '/api/v1/devices/token', {
              method: 'POST',
              json: { refresh_token: session.refreshToken },
            })
          : await apiRequest(this.options, 'Token refresh', '/api/v1/devices/token/refresh', {
              method: 'POST',
              token: session.accessToken,
            })
      ) as TokenBody;
    } catch (error) {
      if (!(error instanceof SyncHttpError && error.status === 401)) throw error;
      await this.options.storage.clear();
      throw new DeviceSignedOutError();
    }
    const next = sessionOf(body);
    await this.options.storage.save(next);
    return next;
  }
}

function sessionOf(body: TokenBody): DeviceSession {
  return {
    deviceId: body.device_id,
    accountId: body.account_id,
    accessToken: body.access_token,
    accessTokenExpiresAt:
      Date.now() + body.expires_in * 1000 - Math.min(EXPIRY_MARGIN_MS, body.expires_in * 250),
    refreshToken: body.refresh_token,
  };
}

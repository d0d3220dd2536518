import { apiRequest, ApiOptions } from './http';
import type { SyncOptions } from './sync';

/** What the device keeps of its registration (through the app's SessionStorage). */
export type DeviceSession = {
  deviceId: string;
  /** The account whose data this device syncs, shared with its paired devices. */
  accountId: string;
  accessToken: string;
  /** Epoch ms after which the access token is refused. */
  accessTokenExpiresAt: number;
};

/**
 * Where the app keeps the session between launches. The token is a credential: on React Native
 * keep it in the platform's secure storage (e.g. `expo-secure-store` or
 * `react-native-keychain`), not in AsyncStorage.
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

type TokenBody = {
  device_id: string;
  account_id: string;
  access_token: string;
  expires_in: number;
};

/**
 * The device's identity on the sync server: registering (a new account, or joining one with a
 * pairing or recovery code), the codes that let other devices in, and the account's devices.
 * Use `syncOptions()` for syncDatabase.
 */
export class AccountClient {
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

  /** The access token for the next request. */
  async accessToken(): Promise<string> {
    const session = await this.options.storage.load();
    if (!session) throw new NotRegisteredError();
    return session.accessToken;
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

  /** The options syncDatabase needs, reading the token from the stored session. */
  syncOptions(): SyncOptions {
    return {
      apiUrl: this.options.apiUrl,
      fetch: this.options.fetch,
      getToken: () => this.accessToken(),
    };
  }

  private async authorized(what: string, path: string, init: RequestInit = {}): Promise<unknown> {
    return apiRequest(this.options, what, path, { ...init, token: await this.accessToken() });
  }
}

function sessionOf(body: TokenBody): DeviceSession {
  return {
    deviceId: body.device_id,
    accountId: body.account_id,
    accessToken: body.access_token,
    accessTokenExpiresAt: Date.now() + body.expires_in * 1000,
  };
}

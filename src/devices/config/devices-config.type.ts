export type DevicesConfig = {
  jwtSecret: string;
  /** Access token lifetime in seconds (JWT_EXPIRES_IN accepts `3600`, `45m`, `12h`, `30d`). */
  jwtExpiresIn: number;
  /** A refresh token left unused this many days is refused (SESSION_IDLE_DAYS). */
  sessionIdleDays: number;
};

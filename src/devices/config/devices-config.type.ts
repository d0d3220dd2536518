export type DevicesConfig = {
  jwtSecret: string;
  /** Token lifetime in seconds (JWT_EXPIRES_IN accepts `3600`, `45m`, `12h`, `30d`). */
  jwtExpiresIn: number;
};

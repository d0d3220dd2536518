/** What a device token carries: only the device id (`sub`), plus the standard iat/exp. */
export type DeviceJwtPayload = {
  sub: string;
  iat?: number;
  exp?: number;
};

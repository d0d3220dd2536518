/**
 * What a valid token proves: the device id it was issued for. Whether that device still exists
 * and is not revoked is checked by ActiveDeviceGuard, or by the handler's own statements.
 */
export type AuthenticatedDevice = { id: string };

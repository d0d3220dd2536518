// Fixed settings for the app under test; DATABASE_URL comes from global-setup.ts.
process.env.NODE_ENV = 'test';
process.env.JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
process.env.JWT_EXPIRES_IN = '1h';
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'error';
process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
// Rate limits are tested on their own app (throttling.e2e-spec.ts); elsewhere they never bite.
process.env.THROTTLE_DEVICE_LIMIT = '1000000';
process.env.THROTTLE_REGISTER_LIMIT = '1000000';

/**
 * Property-based fuzzing of the credential bodies (registration with codes, refresh tokens), as
 * test/fuzz.e2e-spec.ts does for the sync bodies. FUZZ_RUNS and FUZZ_SEED work the same way.
 */
import fc from 'fast-check';
import { createTestApp, registerDevice, RegisteredDevice, TestApp } from './utils/test-app';

const RUNS = Number(process.env.FUZZ_RUNS || 150);
const SEED = Number(process.env.FUZZ_SEED || 20_251_206);
const timeout = (runs: number) => Math.max(60_000, runs * 120);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a code field can hold in a run: a real code of the victim's, or anything else. */
type CodeValue =
  | { kind: 'live pairing'; typing: (code: string) => string }
  | { kind: 'used pairing' | 'expired pairing' | 'recovery' | 'replaced recovery' }
  | { kind: 'other'; value: Json };

/** How a person may type a code: case, spaces or dashes, surrounding blanks. */
const typingArb = fc.constantFrom(
  (code: string) => code,
  (code: string) => code.toLowerCase(),
  (code: string) => code.replace(/-/g, ' '),
  (code: string) => ` ${code.replace(/-/g, '')} `,
);

const hostileJsonArb: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ minLength: 60, maxLength: 70 }),
  fc.constantFrom(
    '',
    ' ',
    '-',
    'null',
    '0000-0000-0000',
    'ILOU-ILOU-ILOU',
    '\u0000',
    '😀'.repeat(20),
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

const codeValueArb: fc.Arbitrary<CodeValue> = fc.oneof(
  typingArb.map((typing) => ({ kind: 'live pairing' as const, typing })),
  fc.constantFrom(
    { kind: 'used pairing' as const },
    { kind: 'expired pairing' as const },
    { kind: 'recovery' as const },
    { kind: 'replaced recovery' as const },
  ),
  hostileJsonArb.map((value) => ({ kind: 'other' as const, value })),
);

type RegisterSpec = {
  /** Not an object at all (then the fields are ignored). */
  notObject?: Json;
  name?: Json;
  platform?: Json;
  pairing?: CodeValue;
  recovery?: CodeValue;
  extra?: Record<string, Json>;
};

const registerSpecArb: fc.Arbitrary<RegisterSpec> = fc.record(
  {
    notObject: fc.oneof(fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.string()),
    name: fc.oneof(fc.string({ maxLength: 110 }), hostileJsonArb),
    platform: fc.oneof(fc.string({ maxLength: 40 }), hostileJsonArb),
    pairing: codeValueArb,
    recovery: codeValueArb,
    extra: fc.dictionary(
      fc.constantFrom('account_id', 'device_id', '__proto__', 'constructor', 'x'),
      hostileJsonArb,
      { maxKeys: 2 },
    ),
  },
  { requiredKeys: [] },
);

describe('fuzzing registration with hostile and broken input (e2e)', () => {
  let t: TestApp;
  let victim: RegisteredDevice;
  let recovery: string;
  let replacedRecovery: string;
  let usedPairing: string;
  let expiredPairing: string;

  const newPairingCode = async () =>
    (
      (await t.http().post('/api/v1/devices/pairing-codes').set(victim.auth).expect(201)).body as {
        code: string;
      }
    ).code;
  const countDevices = async () =>
    (await t.dataSource.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM devices'))[0].n;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    victim = await registerDevice(t, 'victim');
    const recoveryCode = async () =>
      (
        (await t.http().post('/api/v1/account/recovery-code').set(victim.auth).expect(201))
          .body as { recovery_code: string }
      ).recovery_code;
    replacedRecovery = await recoveryCode();
    recovery = await recoveryCode();
    usedPairing = await newPairingCode();
    await registerDevice(t, 'used it', { pairing_code: usedPairing });
    expiredPairing = await newPairingCode();
    await t.dataSource.query(
      `UPDATE pairing_codes SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL`,
    );
  });
  afterAll(() => t?.close());

  it(
    `answers 201, 400 or 403 as the contract says, and a refusal creates nothing (${RUNS} runs, seed ${SEED})`,
    async () => {
      await fc.assert(
        fc.asyncProperty(registerSpecArb, async (spec) => {
          const live = await newPairingCode();
          const valueOf = (code: CodeValue): Json => {
            switch (code.kind) {
              case 'live pairing':
                return code.typing(live);
              case 'used pairing':
                return usedPairing;
              case 'expired pairing':
                return expiredPairing;
              case 'recovery':
                return recovery;
              case 'replaced recovery':
                return replacedRecovery;
              case 'other':
                return code.value;
            }
          };
          const body: Json =
            spec.notObject !== undefined
              ? spec.notObject
              : {
                  ...spec.extra,
                  ...(spec.name !== undefined && { name: spec.name }),
                  ...(spec.platform !== undefined && { platform: spec.platform }),
                  ...(spec.pairing && { pairing_code: valueOf(spec.pairing) }),
                  ...(spec.recovery && { recovery_code: valueOf(spec.recovery) }),
                };
          const before = await countDevices();
          const response = await t
            .http()
            .post('/api/v1/devices/register')
            .set('Content-Type', 'application/json')
            .send(JSON.stringify(body));

          // The contract's answer, from the body alone.
          const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
          const text = (value: Json | undefined, max: number) =>
            value === undefined ||
            value === null ||
            (typeof value === 'string' && [...value].length <= max);
          const pairing = isObject ? body.pairing_code : undefined;
          const recoveryValue = isObject ? body.recovery_code : undefined;
          const given = (value: Json | undefined) => value !== undefined && value !== null;
          const shapeOk =
            isObject &&
            text(body.name, 100) &&
            text(body.platform, 32) &&
            text(pairing, 64) &&
            text(recoveryValue, 64) &&
            !(given(pairing) && given(recoveryValue));
          const joins =
            (given(pairing) && spec.pairing?.kind === 'live pairing') ||
            (!given(pairing) && given(recoveryValue) && spec.recovery?.kind === 'recovery');
          const expected = !isObject
            ? [400]
            : !shapeOk
              ? [400]
              : given(pairing) || given(recoveryValue)
                ? joins
                  ? [201]
                  : [403]
                : [201];
          if (!expected.includes(response.status)) {
            throw new Error(
              `expected ${expected.join(' or ')}, got ${response.status} ${response.text}`,
            );
          }
          if (response.status === 201) {
            expect(response.body.account_id).toEqual(
              joins ? victim.accountId : expect.not.stringMatching(victim.accountId),
            );
            expect(await countDevices()).toBe(before + 1);
          } else {
            expect(response.body).toMatchObject({
              statusCode: response.status,
              message: expect.anything(),
            });
            expect(await countDevices()).toBe(before);
          }
        }),
        { numRuns: RUNS, seed: SEED },
      );
    },
    timeout(RUNS),
  );

  it(
    `answers a token exchange with 200, 400 or 401 as the contract says (${RUNS} runs, seed ${SEED})`,
    async () => {
      // Each run gets a device of its own, holding a current and a replaced refresh token.
      const tokenKindArb = fc.oneof(
        fc.constantFrom('current' as const, 'replaced' as const, 'other device' as const),
        hostileJsonArb.map((value) => ({ value })),
      );
      const bodyArb = fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            token: tokenKindArb,
            extra: fc.dictionary(fc.constantFrom('device_id', 'x', '__proto__'), hostileJsonArb, {
              maxKeys: 2,
            }),
          }),
        },
        { weight: 1, arbitrary: hostileJsonArb.map((notObject) => ({ notObject })) },
      );
      const exchange = (body: Json) =>
        t
          .http()
          .post('/api/v1/devices/token')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
      const other = (await t.http().post('/api/v1/devices/register').send({}).expect(201)).body
        .refresh_token as string;
      await fc.assert(
        fc.asyncProperty(bodyArb, async (spec) => {
          const first = (await t.http().post('/api/v1/devices/register').send({}).expect(201))
            .body as { device_id: string; refresh_token: string };
          const current = (
            (await exchange({ refresh_token: first.refresh_token }).expect(200)).body as {
              refresh_token: string;
            }
          ).refresh_token;
          // Presenting the current one makes `first` an older token (not a retry any more).
          const newest = (
            (await exchange({ refresh_token: current }).expect(200)).body as {
              refresh_token: string;
            }
          ).refresh_token;
          const revoked = async () =>
            (
              await t.dataSource.query<Array<{ r: boolean }>>(
                'SELECT revoked_at IS NOT NULL AS r FROM devices WHERE id = $1',
                [first.device_id],
              )
            )[0].r;

          if ('notObject' in spec) {
            const response = await exchange(spec.notObject);
            expect({ status: response.status, text: response.text }).toMatchObject({ status: 400 });
            expect(await revoked()).toBe(false);
            return;
          }
          const token = spec.token;
          const value: Json =
            token === 'current'
              ? newest
              : token === 'replaced'
                ? first.refresh_token
                : token === 'other device'
                  ? 'x' + other.slice(1)
                  : token.value;
          const response = await exchange({ ...spec.extra, refresh_token: value });
          const wellFormed = typeof value === 'string' && value.length >= 1 && value.length <= 256;
          const expected = !wellFormed ? 400 : token === 'current' ? 200 : 401;
          expect({ status: response.status, text: response.text }).toMatchObject({
            status: expected,
          });
          if (expected !== 200) {
            expect(response.body).toMatchObject({
              statusCode: expected,
              message: expect.anything(),
            });
          }
          // Only a replaced token of the device, presented again, revokes it.
          expect(await revoked()).toBe(wellFormed && token === 'replaced');
        }),
        { numRuns: Math.max(20, Math.ceil(RUNS / 3)), seed: SEED },
      );
    },
    timeout(RUNS),
  );
});

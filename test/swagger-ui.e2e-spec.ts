import fs from 'node:fs';
import { AddressInfo } from 'node:net';
import { Browser, chromium, Page } from 'playwright-core';
import { createTestApp, TestApp } from './utils/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasBrowser = fs.existsSync(CHROMIUM);
if (!hasBrowser) {
  // Said out loud, not passed silently: `apt-get install chromium` (or CHROMIUM_PATH) enables it.
  console.warn(`Swagger UI browser test SKIPPED: no Chromium at ${CHROMIUM}`);
}

/**
 * What a QA person does in Swagger UI, in headless Chromium: register, Authorize with the token,
 * pull, push the example body as-is (200), then push it changed with the same old
 * last_pulled_at (409); make a pairing code, register a second device of the account with it and
 * exchange that device's refresh token.
 */
(hasBrowser ? describe : describe.skip)('Swagger UI in a real browser (e2e)', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/docs`);
  });
  afterAll(async () => {
    await browser?.close();
    await t.close();
  });

  const operation = (id: string) => page.locator(`#operations-${id}`);

  async function execute(
    id: string,
    body?: (text: string) => string,
  ): Promise<{ status: string; text: string }> {
    const op = operation(id);
    // Wait for each step to be rendered: Swagger UI expands operations asynchronously.
    if (!(await op.evaluate((el) => el.classList.contains('is-open'))))
      await op.locator('.opblock-summary').click();
    const tryOut = op.locator('.try-out__btn');
    await tryOut.waitFor();
    if ((await tryOut.innerText()).includes('Try it out')) await tryOut.click();
    await op.locator('button.execute').waitFor();
    if (body) {
      const textarea = op.locator('textarea.body-param__text');
      await textarea.fill(body(await textarea.inputValue()));
    }
    // Clear the previous answer first, so the one read below is this execution's.
    const clear = op.locator('button.btn-clear');
    if (await clear.isVisible()) {
      await clear.click();
      await op.locator('.live-responses-table').waitFor({ state: 'detached' });
    }
    await op.locator('button.execute').click();
    const row = op.locator('.live-responses-table .response').first();
    await row.locator('.response-col_status').waitFor();
    return {
      status: (await row.locator('.response-col_status').innerText()).trim(),
      text: await row.locator('.response-col_description pre').first().innerText(),
    };
  }

  it('renders the devices, sync and health operations', async () => {
    await operation('sync-SyncController_pull').waitFor();
    for (const id of [
      'devices-DevicesController_register',
      'devices-DevicesController_me',
      'devices-DevicesController_createPairingCode',
      'account-AccountController_createRecoveryCode',
      'account-AccountController_listDevices',
      'account-AccountController_revokeDevice',
      'sync-SyncController_pull',
      'sync-SyncController_push',
      'health-HealthController_check',
    ]) {
      await expect(operation(id).count()).resolves.toBe(1);
    }
  });

  it('drives register, Authorize, pull, push (200) and a stale push (409)', async () => {
    const registered = await execute('devices-DevicesController_register');
    expect(registered.status).toBe('201');
    const token = (JSON.parse(registered.text) as { access_token: string }).access_token;

    await page.locator('.auth-wrapper button.authorize').click();
    await page.locator('.modal-ux input').first().fill(token);
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click();
    await page
      .locator('.modal-ux .auth-btn-wrapper button.btn-done, .modal-ux button.close-modal')
      .first()
      .click();

    const pulled = await execute('sync-SyncController_pull');
    expect(pulled.status).toBe('200');
    expect(JSON.parse(pulled.text)).toMatchObject({
      changes: { games: { created: [], updated: [], deleted: [] } },
    });

    const pushed = await execute('sync-SyncController_push');
    expect(pushed.status).toBe('200');
    expect(JSON.parse(pushed.text)).toEqual({ ok: true });

    const stale = await execute('sync-SyncController_push', (text) =>
      text.replace('"target_score": 500', '"target_score": 750'),
    );
    expect(stale.status).toBe('409');
    expect(JSON.parse(stale.text)).toMatchObject({
      statusCode: 409,
      conflicts: [{ table: 'games', id: 'game-1' }],
    });
  });

  it('makes a pairing code, registers a second device with it and exchanges its refresh token', async () => {
    // Still authorized as the device registered above.
    const me = await execute('devices-DevicesController_me');
    const accountId = (JSON.parse(me.text) as { account_id: string }).account_id;
    const made = await execute('devices-DevicesController_createPairingCode');
    expect(made.status).toBe('201');
    const { code } = JSON.parse(made.text) as { code: string };

    const joined = await execute('devices-DevicesController_register', () =>
      JSON.stringify({ name: 'QA tablet', pairing_code: code }),
    );
    expect(joined.status).toBe('201');
    expect(JSON.parse(joined.text)).toMatchObject({ account_id: accountId });

    const listed = await execute('account-AccountController_listDevices');
    expect(listed.status).toBe('200');
    expect((JSON.parse(listed.text) as unknown[]).length).toBe(2);

    // The new device's refresh token, exchanged for new tokens of the same device.
    const { device_id, refresh_token } = JSON.parse(joined.text) as Record<string, string>;
    const exchanged = await execute('devices-DevicesController_exchange', () =>
      JSON.stringify({ refresh_token }),
    );
    expect(exchanged.status).toBe('200');
    expect(JSON.parse(exchanged.text)).toMatchObject({ device_id, account_id: accountId });
  });
});

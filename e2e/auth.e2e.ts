/** Accounts through the UI: create, stay signed in across reloads, sign out and in, inline errors. */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../signaling/src/config.js';
import {
  launchBrowser,
  openPage,
  PASSWORD,
  registerAccount,
  startApp,
  uniqueUsername,
  type RunningApp,
} from './harness.js';

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Selects the "Sign in" or "Create account" tab of the auth screen. */
async function chooseMode(page: Page, mode: 'Sign in' | 'Create account'): Promise<void> {
  const tab = page.getByRole('tab', { name: mode });
  await tab.click();
  expect(await tab.getAttribute('aria-selected')).toBe('true');
}

async function fillCredentials(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
}

/** The signed-in screen: the header shows the user and the live connection. */
async function expectSignedIn(page: Page, username: string): Promise<void> {
  const header = page.getByRole('banner');
  await header.getByText('Connected', { exact: true }).waitFor();
  await header.getByText(username, { exact: true }).waitFor();
  await header.getByRole('button', { name: 'Sign out' }).waitFor();
  expect(await page.getByLabel('Username', { exact: true }).count()).toBe(0);
}

/** The text that `aria-describedby` attaches to a field: where its inline error lives. */
async function fieldDescription(page: Page, label: string): Promise<string> {
  const field = page.getByLabel(label);
  const ids = (await field.getAttribute('aria-describedby')) ?? '';
  const texts = await Promise.all(
    ids
      .split(' ')
      .filter(Boolean)
      .map((id) => page.locator(`#${id}`).innerText()),
  );
  return texts.join(' ');
}

async function meStatus(page: Page): Promise<number> {
  return page.evaluate(async () => (await fetch('/api/me')).status);
}

describe('accounts through the UI', () => {
  it('creates an account, stays signed in across a reload, signs out and signs back in', async () => {
    const { context, page, pageErrors } = await openPage(browser);
    const username = uniqueUsername();
    await page.goto(app.url);

    await chooseMode(page, 'Create account');
    expect(await page.getByLabel('Username').getAttribute('autocomplete')).toBe('username');
    expect(await page.getByLabel('Password').getAttribute('autocomplete')).toBe('new-password');
    await fillCredentials(page, username, PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectSignedIn(page, username);

    await page.reload();
    await expectSignedIn(page, username);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    expect(await meStatus(page)).toBe(401);
    // This browser has an account now: the form opens on "Sign in".
    expect(await page.getByRole('tab', { name: 'Sign in' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByLabel('Password').getAttribute('autocomplete')).toBe('current-password');

    await fillCredentials(page, username, PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectSignedIn(page, username);
    expect(await meStatus(page)).toBe(200);

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('says a taken username is taken, under the username field', async () => {
    const username = uniqueUsername();
    await registerAccount(browser, app.url, username);
    const { context, page, pageErrors } = await openPage(browser);
    await page.goto(app.url);

    await chooseMode(page, 'Create account');
    await fillCredentials(page, username, PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByText('That username is taken').waitFor();
    expect(await page.getByLabel('Username').getAttribute('aria-invalid')).toBe('true');
    expect(await fieldDescription(page, 'Username')).toContain('That username is taken');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('auth-username');

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('rejects a too-short password before sending it', async () => {
    const { context, page, pageErrors } = await openPage(browser);
    const requests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/auth/')) requests.push(request.url());
    });
    await page.goto(app.url);

    await chooseMode(page, 'Create account');
    await fillCredentials(page, uniqueUsername(), 'short');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByText('Password must be at least 8 characters').waitFor();
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    expect(await fieldDescription(page, 'Password')).toContain('at least 8 characters');
    expect(requests).toEqual([]);

    // Typing again clears the message.
    await page.getByLabel('Password').fill('long enough now');
    expect(await page.getByText('Password must be at least 8 characters').count()).toBe(0);

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('says a wrong password is wrong, disabling the button while it checks', async () => {
    const username = uniqueUsername();
    await registerAccount(browser, app.url, username);
    const { context, page, pageErrors } = await openPage(browser);
    await page.goto(app.url);
    await chooseMode(page, 'Sign in');

    // Hold the login request so the in-flight state can be observed.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/auth/login', async (route) => {
      await held;
      await route.continue();
    });

    await fillCredentials(page, username, 'not the password');
    const submit = page.getByRole('button', { name: 'Sign in', exact: true });
    await submit.click();
    await page.waitForFunction(
      () => document.querySelector<HTMLButtonElement>('button[type=submit]')?.disabled,
    );
    release();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toBe('Wrong username or password.');
    expect(await submit.isEnabled()).toBe(true);
    await page.unroute('**/api/auth/login');

    await page.getByLabel('Password').fill(PASSWORD);
    await submit.click();
    await expectSignedIn(page, username);

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('signing out in one tab signs out the other tabs of the session', async () => {
    const { context, page, pageErrors } = await openPage(browser);
    const username = uniqueUsername();
    await page.goto(app.url);
    await chooseMode(page, 'Create account');
    await fillCredentials(page, username, PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectSignedIn(page, username);

    const other = await context.newPage();
    await other.goto(app.url);
    await expectSignedIn(other, username);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await other.getByText('You were signed out').waitFor();
    await other.getByRole('button', { name: 'Sign in', exact: true }).waitFor();

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('shows when the network fails', async () => {
    const { context, page, pageErrors } = await openPage(browser);
    await page.goto(app.url);
    await chooseMode(page, 'Sign in');
    await page.route('**/api/auth/login', (route) => route.abort('internetdisconnected'));
    await fillCredentials(page, uniqueUsername(), PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText("Can't reach Parley").waitFor();

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});

describe('login throttling through the UI', () => {
  let strictApp: RunningApp;

  beforeAll(async () => {
    strictApp = await startApp({
      limits: {
        ...DEFAULT_RATE_LIMITS,
        loginPerIp: 10_000,
        registerPerIpPerHour: 10_000,
        loginPerUsername: 2,
      },
    });
  });

  afterAll(async () => {
    await strictApp?.close();
  });

  it('says how long to wait after too many failed attempts', async () => {
    const username = uniqueUsername();
    await registerAccount(browser, strictApp.url, username);
    const { context, page, pageErrors } = await openPage(browser);
    await page.goto(strictApp.url);
    await chooseMode(page, 'Sign in');
    await fillCredentials(page, username, 'not the password');
    const submit = page.getByRole('button', { name: 'Sign in', exact: true });
    const alert = page.getByRole('alert');

    for (let attempt = 0; attempt < 2; attempt += 1) {
      await submit.click();
      await alert.getByText('Wrong username or password.').waitFor();
      // Editing clears the message, so the next one is new.
      await page.getByLabel('Password').fill(`not the password ${attempt}`);
    }
    await submit.click();
    await alert.getByText(/^Too many attempts\. Try again in \d+ s\.$/).waitFor();

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});

// What the console's browser tests share: Debian's chromium started as
// this machine allows, numbered screenshots, keyboard-only sign-in.
import { chromium } from 'playwright-core';

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

let step = 0;

// shot saves a full-page screenshot under dir, numbered by step.
export async function shot(page, dir, name) {
  step++;
  // Generous: on a busy 2-core CI machine a full-page capture has taken
  // over 20 s.
  await page.screenshot({ path: `${dir}/${String(step).padStart(2, '0')}-${name}.png`, fullPage: true, timeout: 90000, animations: 'disabled' });
  console.log(`ok ${step} ${name}`);
}

// login signs in by keyboard only: the form's autofocus puts the caret in
// the name field, Tab reaches the password, Enter signs in.
export async function login(page, base, name, pass) {
  await page.goto(`${base}/ui/login`);
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'name', null, { timeout: 10000 });
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.id) === 'password', 'Tab moves to the password');
  await page.keyboard.type(pass);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/ui/fleet`);
  await page.locator('#me').filter({ hasText: name }).waitFor();
}

// launch starts chromium headless, without the background traffic this
// network refuses, and returns a page (self-signed certificates taken:
// the servers are the tests' own) and the script errors it collects.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Nothing is throttled as if in the background: on a starved CI
    // machine a page judged hidden stopped drawing frames, and a
    // screenshot waited on one past its 20 s.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-renderer-backgrounding',
      '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'],
    timeout: 60000,
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
  ctx.setDefaultTimeout(60000);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { browser, page, errors };
}

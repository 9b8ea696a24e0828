// Drives Debian's chromium through muster's web console, as an admin and
// as a viewer. Run by internal/e2e TestConsoleInChromium with:
//   BASE (the server's URL), ADMIN and VIEWER (name:password),
//   DEVICE and DEVICE_ID (a device the fleet holds), SHOTS (a directory for
//   screenshots), UPLOAD (a script to upload as a package), AGENT_DEVICE_ID
//   and AGENT_CMD (a muster agent's device, and its run as a JSON array),
//   PUSH_CMD (a muster push to three refusing hosts, reported to the server).
// Prints one line per step; exits non-zero on the first failure.
import { execFileSync, spawn } from 'node:child_process';
import { check, launch, login as signIn, shot as save } from './lib.mjs';

const { BASE, ADMIN, VIEWER, DEVICE, DEVICE_ID, SHOTS, UPLOAD, AGENT_DEVICE_ID, AGENT_CMD, PUSH_CMD } = process.env;
const [adminName, adminPass] = ADMIN.split(':');
const [viewerName, viewerPass] = VIEWER.split(':');
const shot = (page, name) => save(page, SHOTS, name);
const login = (page, name, pass) => signIn(page, BASE, name, pass);

const { browser, page, errors } = await launch();
try {
  // A wrong password stays on the form, with its message.
  await page.goto(`${BASE}/ui/login`);
  await page.fill('#name', adminName);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  await page.locator('#message').filter({ hasText: 'Wrong name or password' }).waitFor();
  await shot(page, 'login-refused');

  await login(page, adminName, adminPass);
  await page.locator('table').waitFor();
  await shot(page, 'fleet-admin');

  // Fleet search finds the device the real OCS agent inventoried.
  await page.fill('#fleet-q', DEVICE_ID);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/ui\/fleet\?q=/);
  const link = page.getByRole('link', { name: DEVICE, exact: true });
  await link.waitFor();
  check(await page.locator('tbody tr').count() === 1, 'the search finds exactly one device');
  await shot(page, 'fleet-search');
  // By software (the agents list dpkg's packages; bash is on every
  // Debian) together with the DEVICEID: the same one device.
  const byBash = `software:bash ${DEVICE_ID}`;
  await page.fill('#fleet-q', byBash);
  await page.keyboard.press('Enter');
  await page.waitForFunction((q) => document.getElementById('fleet-count')?.dataset.q === q, byBash);
  check(await page.locator('#fleet-count').getAttribute('data-total') === '1', 'software:bash with the DEVICEID finds the device');
  check(await page.getByRole('link', { name: DEVICE, exact: true }).count() === 1, 'the software search lists it');
  await page.fill('#fleet-q', 'no-such-device-anywhere');
  await page.keyboard.press('Enter');
  await page.getByText('No device matches.').waitFor();

  // The device page, with its inventory sections; bookmarkable.
  await page.goBack();
  await link.waitFor();
  await link.click();
  await page.waitForURL(/\/ui\/device\/\d+$/);
  await page.getByRole('heading', { name: DEVICE, exact: true }).waitFor();
  await page.getByRole('heading', { name: /^SOFTWARES \(\d+\)$/ }).waitFor();
  const deviceURL = page.url();
  await page.goto(deviceURL);
  await page.getByRole('heading', { name: /^HARDWARE \(1\)$/ }).waitFor();
  await shot(page, 'device');

  // A change: a client added through the console, and the audit log shows it.
  await page.goto(`${BASE}/ui/clients`);
  await page.getByLabel('Name').fill('Console Co');
  await page.getByRole('button', { name: 'Add client' }).click();
  await page.getByRole('cell', { name: 'Console Co', exact: true }).waitFor();
  await shot(page, 'client-added');
  await page.goto(`${BASE}/ui/audit`);
  await page.getByRole('cell', { name: 'POST /api/v1/clients' }).first().waitFor();
  await shot(page, 'audit');

  // A dynamic group made in the console, evaluated by the server: both
  // agents' records of this machine list bash.
  await page.goto(`${BASE}/ui/groups`);
  await page.fill('#group-name', 'has-bash');
  await page.fill('#group-query', 'has software "bash" and seen < 1');
  await page.getByRole('button', { name: 'Save group' }).click();
  await page.waitForURL(`${BASE}/ui/groups/has-bash`);
  check(await page.locator('#group-count').getAttribute('data-total') === '2', 'the group holds the two records of this machine');
  await shot(page, 'group');

  // A package built from an upload (with its progress bar), assigned to
  // the muster agent's device; once the agent ran, it shows SUCCESS.
  await page.goto(`${BASE}/ui/packages`);
  await page.setInputFiles('#pkg-file', UPLOAD);
  await page.selectOption('#pkg-action', 'execute');
  await page.fill('#pkg-command', 'sh run.sh');
  await page.getByRole('button', { name: 'Build package' }).click();
  await page.waitForURL(/\/ui\/packages\/\d+$/);
  await page.getByText('not assigned').first().waitFor();
  await shot(page, 'package-built');
  await page.selectOption('#assign-kind', 'device');
  await page.fill('#assign-value', AGENT_DEVICE_ID);
  await page.getByRole('button', { name: 'Assign' }).click();
  await page.getByRole('cell', { name: 'ASSIGNED', exact: true }).waitFor();
  await shot(page, 'package-assigned');
  const agent = JSON.parse(AGENT_CMD);
  execFileSync(agent[0], agent.slice(1), { stdio: 'ignore', timeout: 120000 });
  await page.reload();
  await page.getByRole('cell', { name: 'SUCCESS', exact: true }).waitFor();
  await shot(page, 'package-success');
  // The agent's device page lists the package and its result.
  await page.goto(`${BASE}/ui/fleet?q=${encodeURIComponent(AGENT_DEVICE_ID)}`);
  await page.locator('tbody a[href^="/ui/device/"]').first().click();
  await page.getByRole('heading', { name: 'Packages' }).waitFor();
  await page.getByRole('cell', { name: 'SUCCESS', exact: true }).waitFor();
  await shot(page, 'device-packages');

  // A push run followed live: the run appears once the pusher started it,
  // and its page fills from Server-Sent Events until the run ends.
  const cmd = JSON.parse(PUSH_CMD);
  const pusher = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  const pushed = new Promise((resolve) => pusher.on('exit', (code) => resolve(code)));
  await page.goto(`${BASE}/ui/push`);
  const runLink = page.locator('tbody a[href^="/ui/push/"]').first();
  for (let i = 0; i < 100 && !(await runLink.count()); i++) {
    await page.waitForTimeout(200);
    await page.reload();
  }
  await runLink.click();
  await page.waitForURL(/\/ui\/push\/[^/]+$/);
  await page.locator('#run-summary[data-state="finished"]').waitFor({ timeout: 60000 });
  check(await page.locator('tbody tr').count() === 3, 'the run page lists its three hosts');
  check(await page.getByRole('cell', { name: 'unreachable', exact: true }).count() === 3, 'each host ended unreachable');
  check(/3 of 3 hosts finished: unreachable 3/.test(await page.locator('#run-summary').textContent()), 'the summary counts them');
  await shot(page, 'push-run-live');
  check(await pushed !== 0, 'muster push exits non-zero when hosts fail');
  await page.goto(`${BASE}/ui/push`);
  await page.getByRole('cell', { name: 'ssh://root@127.0.0.1:1' }).waitFor();
  await shot(page, 'push-runs-and-queue');

  await page.goto(`${BASE}/ui/network`);
  await page.getByRole('heading', { name: 'Subnets' }).waitFor();
  await shot(page, 'network');

  // The OCS agent and the muster agent inventoried the same machine: the
  // Duplicates page lists one group, and a merge leaves one record.
  await page.goto(`${BASE}/ui/fleet`);
  await page.getByRole('link', { name: 'Duplicates' }).click();
  await page.waitForURL(`${BASE}/ui/duplicates`);
  check(await page.locator('tbody tr').count() === 1, 'one group of duplicates: the two agents of this machine');
  await shot(page, 'duplicates');
  await page.getByRole('button', { name: 'Merge every group into its newest record' }).click();
  await page.getByText('No duplicates by these criteria.').waitFor();
  await page.goto(`${BASE}/ui/fleet`);
  await page.waitForFunction(() => document.getElementById('fleet-count')?.dataset.total === '1');

  // A phone's width: nothing wider than the screen but the tables' own scroll.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/ui/fleet`);
  await page.locator('table').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the fleet page fits a phone (overflow ${overflow}px)`);
  await shot(page, 'fleet-phone');
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${BASE}/ui/login`);
  await page.goto(`${BASE}/ui/fleet`);
  await page.waitForURL(`${BASE}/ui/login`);
  console.log('ok signed out');

  // The viewer reads; its change is refused by the server, not only the page.
  await login(page, viewerName, viewerPass);
  await page.goto(`${BASE}/ui/clients`);
  await page.getByRole('cell', { name: 'Console Co', exact: true }).waitFor();
  check(await page.getByRole('button', { name: 'Add client' }).isDisabled(), 'the viewer\'s Add client is disabled');
  const status = await page.evaluate(async () => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/clients', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: '{"name":"Viewer Co"}' });
    return r.status;
  });
  check(status === 403, `the server refuses the viewer's change (got ${status})`);
  await shot(page, 'viewer-clients');
  check(errors.length === 0, `no script error on any page: ${errors.join('; ')}`);
  console.log('console e2e passed');
} finally {
  await browser.close();
}

// The console's network page after an elected scan on the namespace bed:
// run by internal/e2e TestConsoleNetworkOnBed, inside the bed's operator
// namespace, with BASE, ADMIN (name:password), SHOTS, SUBNET (the bed's
// LAN, scanned by its elected agents), IDENTIFY_IP and PUSH_IP (two
// unknown devices of it) and QUEUE_CMD (muster push --queue, as a JSON
// array). Prints one line per step; exits non-zero on the first failure.
import { execFileSync } from 'node:child_process';
import { check, launch, login, shot } from './lib.mjs';

const { BASE, ADMIN, SHOTS, SUBNET, IDENTIFY_IP, PUSH_IP, QUEUE_CMD } = process.env;
const [name, pass] = ADMIN.split(':');
const { browser, page, errors } = await launch();
try {
  await login(page, BASE, name, pass);
  await page.goto(`${BASE}/ui/network`);
  // The subnet, with its elected agents and counts.
  const subnetRow = page.locator('tr', { has: page.getByRole('cell', { name: SUBNET, exact: true }) });
  await subnetRow.waitFor();
  const cells = await subnetRow.locator('td').allTextContents();
  check(/contact quality .*contact quality /.test(cells[1]), `the subnet shows its two elected agents and why they won (${cells[1]})`);
  check(Number(cells[7]) >= 2, `the subnet counts unknown devices (${cells[7]})`);
  await shot(page, SHOTS, 'network-after-scan');

  // One unknown device identified as a printer.
  await page.getByLabel(`select ${IDENTIFY_IP}`, { exact: true }).check();
  await page.fill('#identify-type', 'printer');
  await page.fill('#identify-description', 'hall');
  await page.getByRole('button', { name: 'Identify selected' }).click();
  await page.getByRole('cell', { name: 'identified: printer (hall)' }).waitFor();
  await shot(page, SHOTS, 'network-identified');

  // The agent pushed to another: it joins the retry queue, due at once.
  await page.getByLabel(`select ${PUSH_IP}`, { exact: true }).check();
  await page.selectOption('#push-transport', 'ssh');
  await page.getByRole('button', { name: 'Push the agent to selected' }).click();
  await page.waitForURL(/\/ui\/push/);
  const queued = page.locator('tr', { has: page.getByRole('cell', { name: `ssh://${PUSH_IP}`, exact: true }) });
  await queued.waitFor();
  check((await queued.locator('td').nth(2).textContent()).startsWith('yes'), 'the queued host is due');
  await shot(page, SHOTS, 'push-queued');

  // muster push --queue takes it: a run appears, its host unreachable
  // (the bed's hosts run no sshd).
  const cmd = JSON.parse(QUEUE_CMD);
  try {
    execFileSync(cmd[0], cmd.slice(1), { stdio: 'pipe', timeout: 120000 });
  } catch (e) {
    check(e.status === 1, `muster push --queue failed as a push with a failed host does (${e.status}: ${e.stderr})`);
  }
  await page.reload();
  const run = page.locator('tbody a[href^="/ui/push/"]').first();
  await run.click();
  await page.locator('#run-summary[data-state="finished"]').waitFor();
  check(await page.locator('tbody tr').count() === 1, 'the run pushed to the one queued host');
  check(await page.getByRole('cell', { name: `ssh://${PUSH_IP}`, exact: true }).count() === 1, 'the run is the queued host');
  await shot(page, SHOTS, 'push-run-from-queue');
  check(errors.length === 0, `no script error on any page: ${errors.join('; ')}`);
  console.log('network e2e passed');
} finally {
  await browser.close();
}

// Drives the status page in headless Chromium (Debian's /usr/bin/chromium) with
// playwright-core: nodes appear, a value changes without a reload, the chart of a selected
// node draws, the search filters, and a node turns offline after the test's C++ side stops
// its simulator (it does so when this script prints STOP-SIM).
//   usage: node status_page.mjs URL SCREENSHOT.png
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const origin = new URL(url).origin;
const step = (text) => console.log('step: ' + text);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  // What works on this machine (no sandbox as root, no background connections).
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = await browser.newPage();
  const foreign = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(origin)) foreign.push(request.url());
  });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));

  await page.goto(url);
  const row = page.locator('#nodes tbody tr[data-node="pdu-1"]');
  await row.waitFor({ timeout: 15000 });
  step('pdu-1 appears');
  if ((await row.locator('td').nth(2).textContent()) !== 'online') throw new Error('pdu-1 is not online');
  await page.locator('#nodes tbody tr[data-node="meter-7"]').waitFor({ timeout: 15000 });
  await page.evaluate(() => { window.notReloaded = true; });

  const values = row.locator('td.values');
  const first = await values.textContent();
  if (!/voltage \d+(\.\d+)? V/.test(first)) throw new Error('no voltage with its unit: ' + first);
  await page.waitForFunction(
      (before) => document.querySelector('#nodes tbody tr[data-node="pdu-1"] td.values').textContent !== before,
      first, { timeout: 15000 });
  if (!(await page.evaluate(() => window.notReloaded))) throw new Error('the page reloaded');
  step('a value updates live: ' + first + ' -> ' + (await values.textContent()));

  if (!/online/.test(await page.locator('#nodes-count').textContent())) throw new Error('no node count');
  if ((await page.locator('#sources tbody tr[data-source="pdu-bus"]').count()) !== 1) throw new Error('no source row');

  await row.click();
  await page.waitForFunction(() => {
    const line = document.querySelector('#chart polyline');
    return line && line.getAttribute('points').split(' ').length >= 3;
  }, null, { timeout: 15000 });
  step('the chart of pdu-1 draws');

  await page.fill('#search', 'meter');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#nodes tbody tr')];
    return rows.length === 1 && rows[0].dataset.node === 'meter-7';
  }, null, { timeout: 10000 });
  await page.fill('#search', '');
  await row.waitFor({ timeout: 10000 });
  step('the search filters');

  console.log('STOP-SIM');
  await page.waitForFunction(
      () => document.querySelector('#nodes tbody tr[data-node="pdu-1"] td:nth-child(3)')?.textContent === 'offline',
      null, { timeout: 20000 });
  step('pdu-1 turns offline');
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  if (foreign.length) throw new Error('requests to other origins: ' + foreign.join(', '));
  if (errors.length) throw new Error('script errors: ' + errors.join('; '));
  console.log('PASS');
} catch (error) {
  failed = true;
  console.log('FAIL: ' + (error && error.stack ? error.stack : error));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

// The tournament pages in headless Chromium: a director creates a tournament through the
// admin API; a player finds it in the tournament lobby, opens it, registers, unregisters and
// registers again; SDK bots fill it and the director starts it; the player is sent to her
// table and plays it; the director reschedules its start, later pauses and resumes its
// clock from the dashboard, then
// cancels it and her seat is let go. (Following a move is the
// same code path as following the start, app.mjs foldTournament; the runtime refuses a
// director's move for now.) Screenshots go to $TABLIUM_ARTIFACTS. Run by
// tests/clients/test_browser_tournament.py.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { admin, env, fund, newClient, passiveAction, playerId, uniqueName } from '../support.mjs';

const CHROMIUM = process.env.TABLIUM_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const ARTIFACTS = process.env.TABLIUM_ARTIFACTS ?? '/tmp/tablium-browser-artifacts';
const PLAYERS = 9; // one table
const BUY_IN = 100;
const FEE = 10;
const FUNDS = 1000;
const PASSWORD = 'correct horse battery';
const STEP_MS = 30_000;

let browser;
let page;
const errors = [];
const bots = [];
let tournamentId;

const pageUrl = (hash = '') => `${new URL('/client/', env.apiUrl)}?ws=${encodeURIComponent(env.wsUrl)}${hash}`;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const created = await admin('POST', '/tournaments', {
    name: `Browser ${env.runTag}`.slice(0, 64),
    preset: 'hyper',
    buy_in: BUY_IN,
    fee: FEE,
    action_timeout_ms: 30_000,
    reason: 'browser tests',
  });
  tournamentId = created.tournament_id;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  for (const bot of bots) bot.c.close();
  await browser?.close();
});

/** An SDK bot: registers for the tournament, follows its seat, answers like a calling
 * station. */
async function tournamentBot(name) {
  const c = await newClient();
  await c.register(name, PASSWORD);
  await fund(name, FUNDS);
  const bot = { c, name, table: null, seat: null };
  c.on('push', (body) => {
    if ((body.type === 'tournament_seated' || body.type === 'tournament_moved') && body.tournament_id === tournamentId) {
      bot.table = body.table_id;
      bot.seat = body.seat;
    }
  });
  c.on('action_required', (prompt) => {
    if (prompt.table_id !== bot.table || prompt.seat !== bot.seat) return;
    const [action, options] = passiveAction(prompt.legal);
    c.act(prompt, action, options).catch(() => {});
  });
  await c.request({ type: 'register_tournament', tournament_id: tournamentId });
  bots.push(bot);
  return bot;
}

/** Answer the player's own prompts in the page (call or check, show at a showdown). */
async function playInPage(done) {
  while (!done()) {
    try {
      await page.waitForSelector('#actions:not([hidden])', { timeout: 500 });
      const button = (await page.$('#act-show')) ?? (await page.$('#act-call'));
      await button?.click({ timeout: 1000 });
    } catch {
      // not my turn, or the prompt went away: look again
    }
  }
}

test('the tournament lobby, registering, and a table that follows the player', async (t) => {
  const alice = uniqueName('tali');

  await t.test('a player finds the tournament in the lobby and registers from its page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().includes('favicon')) errors.push(message.text());
    });
    await page.goto(pageUrl());
    await page.click('#tab-register');
    await page.fill('#name', alice);
    await page.fill('#password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#nav-tournaments');
    await fund(alice, FUNDS);
    await page.click('#nav-tournaments');
    const row = `#tournament-rows tr[data-tournament="${tournamentId}"]`;
    await page.waitForSelector(`${row}[data-state="registering"]`, { timeout: STEP_MS });
    await page.selectOption('#filter-tournament-state', 'finished');
    await page.waitForSelector(row, { state: 'detached' });
    await page.selectOption('#filter-tournament-state', 'registering');
    await page.waitForSelector(row);
    await page.screenshot({ path: join(ARTIFACTS, 'tournament-lobby.png'), fullPage: true });

    await page.click(`${row} button.open`);
    await page.waitForSelector('section.tournament-view');
    await page.waitForSelector('#page[data-ready="true"]');
    await page.click('#tournament-register');
    await page.waitForSelector('#my-entries li[data-status="registered"]', { timeout: STEP_MS });
    const id = await playerId(alice);
    const wallet = await admin('GET', `/players/${id}/wallet`);
    assert.equal(wallet.balance, FUNDS - BUY_IN - FEE);

    await page.click('#tournament-unregister');
    await page.waitForSelector('#my-entries li', { state: 'detached', timeout: STEP_MS });
    assert.equal((await admin('GET', `/players/${id}/wallet`)).balance, FUNDS);
    await page.click('#tournament-register');
    await page.waitForSelector('#my-entries li[data-status="registered"]', { timeout: STEP_MS });
  });

  await t.test('the director reschedules its start from the dashboard', async () => {
    const director = await browser.newPage();
    director.on('pageerror', (error) => errors.push(`director: ${error.message}`));
    await director.goto(new URL('/client/director.html', env.adminUrl).toString());
    await director.fill('#staff-token', env.staffToken);
    await director.click('#staff-login button');
    const row = `#director-tournaments tr[data-tournament="${tournamentId}"]`;
    await director.waitForSelector(`${row}[data-state="registering"] input.starts-at`, { timeout: STEP_MS });
    // Tomorrow at 20:00 in the browser's time zone, as the director would pick it.
    const value = await director.evaluate(() => {
      const d = new Date(Date.now() + 86_400_000);
      const pad = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T20:00`;
    });
    const startsAt = await director.evaluate((v) => new Date(v).getTime(), value);
    await director.fill(`${row} input.starts-at`, value);
    await director.click(`${row} button.reschedule`);
    await director.waitForSelector(`${row}[data-starts-at="${startsAt}"]`, { timeout: STEP_MS });
    assert.match(await director.textContent('#notice'), /starts/);
    const view = await admin('GET', `/tournaments/${tournamentId}?limit=1`);
    assert.equal(view.details.summary.starts_at_ms, startsAt);
    assert.equal(view.details.summary.state, 'registering');
    await director.screenshot({ path: join(ARTIFACTS, 'dashboard-reschedule.png'), fullPage: true });
    // A time that cannot be: refused by the API, shown, nothing changed.
    await director.fill(`${row} input.starts-at`, '');
    await director.click(`${row} button.reschedule`);
    await director.waitForFunction(() => document.querySelector('#notice').textContent.includes('choose a start time'));
    assert.equal((await admin('GET', `/tournaments/${tournamentId}?limit=1`)).details.summary.starts_at_ms, startsAt);
    await director.close();
  });

  await t.test('bots fill it, the director starts it and the player is sent to her table', async () => {
    for (let i = 1; i < PLAYERS; i += 1) await tournamentBot(uniqueName(`tb${i}`));
    await page.waitForSelector(`[data-field="entries"]:text("${PLAYERS} (")`, { timeout: STEP_MS });
    await page.screenshot({ path: join(ARTIFACTS, 'tournament.png'), fullPage: true });
    await admin('POST', `/tournaments/${tournamentId}/start`, { reason: 'browser tests' });
    await page.waitForFunction((id) => location.hash.startsWith(`#/table/t${id}-`), tournamentId, { timeout: STEP_MS });
    await page.waitForSelector('.seat.me', { timeout: STEP_MS });
    assert.equal(await page.$('#leave-table'), null, 'no leave button at a tournament table');
    await page.waitForSelector('#table-tournament');
  });

  await t.test('the director sees the tournament on the dashboard and pauses and resumes its clock', async () => {
    const director = await browser.newPage();
    director.on('pageerror', (error) => errors.push(`director: ${error.message}`));
    await director.goto(new URL('/client/director.html', env.adminUrl).toString());
    await director.fill('#staff-token', env.staffToken);
    await director.click('#staff-login button');
    const row = `#director-tournaments tr[data-tournament="${tournamentId}"]`;
    await director.waitForSelector(`${row}[data-state="running"]`, { timeout: STEP_MS });
    await director.click(`${row} button.pause`);
    await director.waitForSelector(`${row}[data-state="paused"]`, { timeout: STEP_MS });
    await director.screenshot({ path: join(ARTIFACTS, 'dashboard-tournament.png'), fullPage: true });
    await director.click(`${row} button.resume`);
    await director.waitForSelector(`${row}[data-state="running"]`, { timeout: STEP_MS });
    await director.close();
  });

  await t.test('the player plays her table; the director cancels and her seat is let go', async () => {
    let done = false;
    const playing = playInPage(() => done);
    try {
      const table = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/table/'.length));
      await page.waitForFunction((id) => (window.tablium?.tables.get(id)?.handsEnded ?? 0) >= 1, table, { timeout: STEP_MS * 2 });
      await page.screenshot({ path: join(ARTIFACTS, 'tournament-table.png') });
      await admin('POST', `/tournaments/${tournamentId}/cancel`, { reason: 'browser tests: done' });
      await page.waitForFunction((id) => window.tablium !== undefined && window.tablium.mySeats[id] === undefined, table, { timeout: STEP_MS });
    } finally {
      done = true;
      await playing;
    }
  });

  await t.test('the pages raised no script error', () => {
    assert.deepEqual(errors, []);
  });
});

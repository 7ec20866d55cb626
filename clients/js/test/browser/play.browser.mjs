// The browser client in headless Chromium (Debian's, driven by playwright-core): two players
// in the browser and four SDK bots play ten hands at one table; a player reloads mid-hand and
// is back in the same hand with the same cards; the director pauses the table from the
// dashboard and the players see it; a player leaves and the wallet page shows the right
// balance. Screenshots go to $TABLIUM_ARTIFACTS. Run by tests/clients/test_browser_client.py.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { TableState } from '../../src/tablium.mjs';
import { admin, callingStation, env, eventually, fund, newClient, openTable, playerId, uniqueName } from '../support.mjs';

const CHROMIUM = process.env.TABLIUM_CHROMIUM ?? '/usr/bin/chromium';
// Headless Chromium on a machine without a network beyond loopback (see docs/clients.md).
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const ARTIFACTS = process.env.TABLIUM_ARTIFACTS ?? '/tmp/tablium-browser-artifacts';
const DIRECTOR_TOKEN = process.env.TABLIUM_DIRECTOR_TOKEN;
const HANDS = 10;
const FUNDS = 1000;
const BUY_IN = 200;
const PASSWORD = 'correct horse battery';
const STEP_MS = 30_000; // the longest any one step may wait
const CLICK_MS = 2_000; // a button that went away meanwhile (the prompt was answered): look again

const tableId = `web-${env.runTag}`.slice(0, 64);
// Players' pages from the public API's port (what `tablium serve` prints), the director's
// dashboard from the admin port (same-origin with the admin API it calls).
const pageUrl = (path = '') => {
  const base = path.startsWith('director') ? env.adminUrl : env.apiUrl;
  return `${new URL(`/client/${path}`, base)}?ws=${encodeURIComponent(env.wsUrl)}`;
};
let browser;
const bots = [];
const players = {}; // name -> {page, name, errors}
let watcher; // a bot's view of the table, to count hands

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  await openTable(tableId);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  for (const bot of bots) bot.c.close();
  await browser?.close();
});

async function newPlayerPage(label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(`${label}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('favicon')) errors.push(`${label} console: ${message.text()}`);
  });
  return { page, errors };
}

// While a page reloads, window.tablium is not there yet: every look in a page allows for that.
const seatOf = (page) => page.evaluate((id) => window.tablium?.mySeats[id] ?? null, tableId);
const promptOf = (page) => page.evaluate((id) => {
  const table = window.tablium?.tables.get(id);
  return table?.prompt ? { legal: table.prompt.legal, at: table.promptAtMs, hand: table.prompt.hand_number } : null;
}, tableId);

/** Act whenever it is this player's turn, until `done()`: keyboard shortcuts for one player,
 * clicks and the bet slider for the other. */
async function playLoop(player, done, style) {
  const { page } = player;
  let raised = false;
  while (!done()) {
    if (player.paused) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      await page.waitForSelector('#actions:not([hidden])', { timeout: 1000 });
    } catch {
      continue; // not my turn yet; look at done() again
    }
    let prompt;
    try {
      prompt = await promptOf(page);
    } catch (error) {
      if (player.paused || done()) continue; // the page is reloading
      throw error;
    }
    if (prompt === null) continue;
    const { legal } = prompt;
    const click = (selector) => page.click(selector, { timeout: CLICK_MS });
    try {
      if (legal.show) await (style === 'keys' ? page.keyboard.press('s') : click('#act-show'));
      else if (legal.run_it_twice) await click('#act-rit-no');
      else if (style === 'mouse' && !raised && legal.min_raise_to !== null && legal.min_raise_to < legal.max_raise_to) {
        // The slider is bounded by the legal amounts; set it between them and raise.
        const slider = page.locator('#raise-slider');
        assert.equal(Number(await slider.getAttribute('min', { timeout: CLICK_MS })), legal.min_raise_to);
        assert.equal(Number(await slider.getAttribute('max', { timeout: CLICK_MS })), legal.max_raise_to);
        const amount = Math.min(legal.max_raise_to, legal.min_raise_to + 2);
        await slider.fill(String(amount), { timeout: CLICK_MS });
        assert.equal(Number(await page.inputValue('#raise-amount', { timeout: CLICK_MS })), amount);
        await click('#act-raise');
        raised = true;
        player.raisedTo = amount;
      } else if (style === 'keys') await page.keyboard.press('c');
      else await click('#act-call');
      // Wait for that prompt to be answered (gone, or a newer one).
      // The wait goes on in a reloaded page (a reload of this player's page in progress).
      await page.waitForFunction(([id, at]) => {
        const table = window.tablium?.tables.get(id);
        return table === undefined || table.prompt === null || table.promptAtMs !== at;
      }, [tableId, prompt.at], { timeout: STEP_MS });
    } catch (error) {
      // The prompt went away under us (answered by the clock, a reload in progress, the end):
      // look again. Anything else is a failure.
      if (error.name === 'TimeoutError' || player.paused || done()) continue;
      throw error;
    }
  }
}

test('two browser players and four bots play ten hands; reload, pause, leave, wallet', async (t) => {
  const alice = uniqueName('alice');
  const bob = uniqueName('bob');

  await t.test('players register in the browser and see the lobby', async () => {
    for (const name of [alice, bob]) {
      const player = (players[name] = { name, ...(await newPlayerPage(name)) });
      await player.page.goto(pageUrl());
      await player.page.click('#tab-register');
      await player.page.fill('#name', name);
      await player.page.fill('#password', PASSWORD);
      await player.page.click('#login-submit');
      await player.page.waitForSelector(`#lobby-tables tr[data-table="${tableId}"]`);
      await fund(name, FUNDS);
      await player.page.reload(); // resumes the session; the lobby shows the new balance
      await player.page.waitForSelector(`#lobby-tables tr[data-table="${tableId}"]`);
      await player.page.waitForFunction((funds) => document.querySelector('#lobby-balance').textContent === funds.toLocaleString('en-US'), FUNDS);
    }
    const { page } = players[alice];
    // Filters: another game hides the table; any game shows it again.
    await page.selectOption('#filter-variant', 'PO');
    await page.waitForSelector(`#lobby-tables tr[data-table="${tableId}"]`, { state: 'detached' });
    await page.selectOption('#filter-variant', '');
    await page.waitForSelector(`#lobby-tables tr[data-table="${tableId}"]`);
  });

  await t.test('four bots sit down and the lobby updates live', async () => {
    watcher = new TableState(tableId);
    for (let i = 0; i < 4; i += 1) {
      const name = uniqueName(`bot${i}`);
      const c = await newClient();
      await c.register(name, PASSWORD);
      await fund(name, FUNDS);
      const bot = { c, name, seat: null };
      callingStation(c, tableId, () => bot.seat);
      if (i === 0) c.on('push', (body) => watcher.apply(body));
      bot.seat = (await c.joinTable({ tableId, buyIn: BUY_IN })).seat;
      bots.push(bot);
    }
    const { page } = players[alice];
    await page.waitForSelector(`#lobby-tables tr[data-table="${tableId}"] td.seats:text("4/6")`, { timeout: STEP_MS });
    await page.screenshot({ path: join(ARTIFACTS, 'lobby.png'), fullPage: true });
  });

  await t.test('both players join from the lobby and play ten hands', async () => {
    for (const name of [alice, bob]) {
      const { page } = players[name];
      await page.click(`#lobby-tables tr[data-table="${tableId}"] button.join`);
      await page.waitForSelector('.seat.me', { timeout: STEP_MS });
      assert.notEqual(await seatOf(page), null);
    }
    // Seats show who sits there by display name (a new account's is its login name).
    await players[alice].page.waitForSelector(`.seat .seat-name:has-text("${bots[0].name}")`, { timeout: STEP_MS });
    const firstHand = watcher.handsEnded;
    let done = false;
    const loops = [playLoop(players[alice], () => done, 'mouse'), playLoop(players[bob], () => done, 'keys')];
    const handsPlayed = () => watcher.handsEnded - firstHand;
    try {
      // Mid-hand, when the board is out and both players hold cards: the table screenshot.
      const { page } = players[alice];
      await page.waitForSelector('#hole-cards[data-cards] + *, #hole-cards[data-cards]', { timeout: STEP_MS * 2 });
      await page.waitForFunction(() => document.querySelectorAll('#board .card').length >= 3 && document.querySelector('#hole-cards'), null, { timeout: STEP_MS * 2 });
      await page.screenshot({ path: join(ARTIFACTS, 'table-mid-hand.png') });

      // Bob reloads in the middle of a hand he is in, and is back in it with the same cards.
      const bobPlayer = players[bob];
      await bobPlayer.page.waitForFunction((id) => {
        const table = window.tablium?.tables.get(id);
        return table !== undefined && table.handRunning && table.holeCards.length === 2 && table.prompt === null;
      }, tableId, { timeout: STEP_MS * 2 });
      const before = await bobPlayer.page.evaluate((id) => {
        const table = window.tablium.tables.get(id);
        return { hand: table.handNumber, cards: table.holeCards.join(' ') };
      }, tableId);
      bobPlayer.paused = true;
      await bobPlayer.page.reload();
      await bobPlayer.page.waitForSelector('.seat.me', { timeout: STEP_MS });
      // His seat can be drawn before the table's snapshot is in: wait for its hand number.
      await bobPlayer.page.waitForFunction((args) => {
        const table = window.tablium?.tables.get(args.id);
        return table !== undefined && table.handNumber >= args.hand;
      }, { id: tableId, hand: before.hand }, { timeout: STEP_MS });
      const back = await bobPlayer.page.evaluate((id) => {
        const table = window.tablium.tables.get(id);
        return { hand: table.handNumber, cards: table.holeCards.join(' '), running: table.handRunning };
      }, tableId);
      bobPlayer.paused = false;
      if (back.hand === before.hand) {
        assert.equal(back.cards, before.cards, 'the same cards after the reload');
        assert.equal(await bobPlayer.page.getAttribute('#hole-cards', 'data-cards'), before.cards);
      } else {
        // The hand ended while the page loaded (bots are fast): then it must be a later one.
        assert.ok(back.hand > before.hand, `hand ${back.hand} after ${before.hand}`);
      }
      t.diagnostic(`reload: hand ${before.hand} [${before.cards}] -> hand ${back.hand} [${back.cards}]`);

      await eventually(() => (handsPlayed() >= HANDS ? true : undefined), { attempts: 900, delayMs: 100, what: `${HANDS} hands` });
    } finally {
      done = true;
      await Promise.all(loops);
    }
    assert.ok(players[alice].raisedTo > 0, 'alice raised with the slider');
    for (const name of [alice, bob]) {
      const seen = Number(await players[name].page.getAttribute('#hands-ended', 'data-count'));
      assert.ok(seen >= 1, `${name} saw hands end`);
    }
  });

  await t.test('the director pauses the table from the dashboard and the players see it', async () => {
    assert.ok(DIRECTOR_TOKEN, 'TABLIUM_DIRECTOR_TOKEN is set');
    const { page } = await newPlayerPage('director');
    players.director = { page, errors: [] };
    await page.goto(pageUrl('director.html'));
    await page.fill('#staff-token', DIRECTOR_TOKEN);
    await page.click('#staff-login button');
    const row = `#director-tables tr[data-table="${tableId}"]`;
    await page.waitForSelector(`${row}[data-status="open"]`, { timeout: STEP_MS });
    await page.waitForSelector('#actor-tree li[data-actor="tables"]');
    await page.waitForSelector(`#actor-tree li[data-actor="table:${tableId}"]`);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    // Players keep acting until the running hand ends; a paused table starts no new one.
    let done = false;
    const loops = [playLoop(players[alice], () => done, 'mouse'), playLoop(players[bob], () => done, 'keys')];
    try {
      await page.click(`${row} button.pause`);
      await page.waitForSelector(`${row}[data-status="paused"]`, { timeout: STEP_MS });
      for (const name of [alice, bob]) {
        await players[name].page.waitForSelector('#table-status[data-status="paused"]', { timeout: STEP_MS });
        assert.match(await players[name].page.textContent('#table-status'), /Paused/);
      }
      await players[alice].page.waitForSelector('#hand-number[data-hand="0"]', { timeout: STEP_MS * 2 });
    } finally {
      done = true;
      await Promise.all(loops);
    }
  });

  await t.test('a player leaves and the wallet page shows the right balance', async () => {
    const { page } = players[alice];
    const stack = Number(await page.getAttribute('.seat.me .seat-stack', 'data-stack'));
    await page.click('#leave-table');
    await page.waitForSelector('.seat.me', { state: 'detached', timeout: STEP_MS });
    const expected = FUNDS - BUY_IN + stack;
    await page.click('#nav-wallet');
    // The table pays the cash-out right after its reply: reload the page until it shows.
    const shown = await eventually(async () => {
      await page.waitForSelector('#wallet-balance', { timeout: STEP_MS });
      const chips = Number(await page.getAttribute('#wallet-balance', 'data-chips'));
      if (chips === expected) return chips;
      await page.reload();
      return undefined;
    }, { attempts: 20, delayMs: 100, what: `the wallet page showing ${expected}` });
    const id = await playerId(alice);
    const ledger = await admin('GET', `/players/${id}/wallet`);
    assert.equal(shown, ledger.balance);
    await page.waitForSelector('#wallet-history tr[data-transfer]');
    const kinds = await page.$$eval('#wallet-history tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
    assert.ok(kinds.includes('cash out') && kinds.includes('buy in'), kinds.join(', '));
    await page.screenshot({ path: join(ARTIFACTS, 'wallet.png'), fullPage: true });
  });

  await t.test('the pages raised no script error', () => {
    const errors = Object.values(players).flatMap((player) => player.errors ?? []);
    assert.deepEqual(errors, []);
  });
  t.diagnostic(`screenshots in ${ARTIFACTS}`);
});

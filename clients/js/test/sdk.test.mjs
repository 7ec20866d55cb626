// The SDK against a real server (pytest tests/clients/test_js_sdk.py starts it).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ServerError, TableState, retryDelayMs } from '../src/tablium.mjs';
import { admin, callingStation, env, eventually, fund, newClient, openTable, uniqueName } from './support.mjs';

const PASSWORD = 'correct horse battery';
const open = [];
async function client(options) {
  const made = await newClient(options);
  open.push(made);
  return made;
}
after(() => open.forEach((c) => c.close()));

describe('connecting and logging in', () => {
  test('hello is answered with the server limits', async () => {
    const c = await client();
    assert.equal(c.welcome.type, 'welcome');
    assert.equal(c.welcome.version, 1);
    assert.ok(c.welcome.frame_bytes_max > 0);
  });

  test('register then login on another connection gives a token for the same player', async () => {
    const name = uniqueName('reg');
    const first = await client();
    const registered = await first.register(name, PASSWORD);
    assert.equal(registered.player, name);
    assert.equal(registered.resume, 'new');
    const second = await client();
    const loggedIn = await second.login(name, PASSWORD);
    assert.equal(loggedIn.player, name);
    assert.notEqual(loggedIn.session_id, registered.session_id);
  });

  test('an error frame rejects its request with the code, and the connection stays usable', async () => {
    const c = await client();
    await assert.rejects(c.login(uniqueName('nobody'), PASSWORD), (error) => {
      assert.ok(error instanceof ServerError);
      assert.equal(error.code, 'bad_credentials');
      assert.equal(error.retryable, false);
      return true;
    });
    await c.register(uniqueName('after'), PASSWORD);
    assert.ok((await c.ping()) >= 0);
  });

  test('pipelined requests each get their own reply', async () => {
    const c = await client();
    await c.register(uniqueName('pipe'), PASSWORD);
    const replies = await Promise.all([
      ...Array.from({ length: 20 }, () => c.request({ type: 'ping' })),
      c.walletBalance(),
    ]);
    assert.deepEqual(new Set(replies.slice(0, 20).map((r) => r.type)), new Set(['pong']));
    assert.equal(replies[20].type, 'balance');
    assert.equal(new Set(replies.map((r) => r.id)).size, replies.length);
  });

  test('logout closes with 4005 and the token no longer logs in', async () => {
    const c = await client();
    const { token } = await c.register(uniqueName('out'), PASSWORD);
    const closed = new Promise((resolve) => c.on('state', (state, detail) => state === 'closed' && resolve(detail)));
    await c.logout();
    assert.equal((await closed).code, 4005);
    const again = await client();
    await assert.rejects(again.authenticate(token), (error) => error.code === 'token_invalid');
  });
});

describe('wallet', () => {
  test('chips credited by staff show in the balance and the history', async () => {
    const name = uniqueName('wal');
    const c = await client();
    await c.register(name, PASSWORD);
    await fund(name, 1234);
    const balance = await c.walletBalance();
    assert.equal(balance.balance, 1234);
    assert.equal(balance.available, 1234);
    const history = await c.walletHistory({ limit: 5 });
    assert.equal(history.entries.length, 1);
    assert.equal(history.entries[0].amount, 1234);
    assert.equal(history.next_before_id, null);
  });
});

describe('lobby and tables', () => {
  test('a lobby subscription hears of a table opened after it', async () => {
    const c = await client();
    await c.register(uniqueName('lob'), PASSWORD);
    const first = await c.subscribeLobby({ bigBlind: 2 });
    assert.ok(first.tables.every((t) => t.big_blind === 2));
    const tableId = `sdk-lobby-${env.runTag}`.slice(0, 64);
    const heard = c.waitFor('lobby_table_changed', (body) => body.listing.table_id === tableId);
    await openTable(tableId);
    assert.equal((await heard).listing.seats_taken, 0);
    await c.unsubscribeLobby();
  });

  test('two players play hands to the end, and leaving pays the stack back to the wallet', async () => {
    const tableId = await openTable(`sdk-play-${env.runTag}`.slice(0, 64));
    const players = [];
    // One speaks msgpack, the other JSON text frames: they must see the same table.
    for (const [prefix, encoding] of [['pa', 'msgpack'], ['pb', 'json']]) {
      const name = uniqueName(prefix);
      const c = await client({ encoding });
      await c.register(name, PASSWORD);
      await fund(name, 1000);
      const state = new TableState(tableId);
      c.on('push', (body) => state.apply(body));
      players.push({ c, name, state, seat: null });
    }
    const handsEnded = Promise.all(players.map(({ c }) => {
      let ended = 0;
      return c.waitFor('hand_ended', () => (ended += 1) >= 2, 60_000);
    }));
    for (const player of players) {
      callingStation(player.c, tableId, () => player.seat);
      const seated = await player.c.joinTable({ tableId, buyIn: 200 });
      player.seat = seated.seat;
      assert.equal(seated.stack, 200);
    }
    const holeCards = players[0].c.waitFor('hole_cards', (b) => b.table_id === tableId, 30_000);
    await handsEnded;
    assert.equal((await holeCards).cards.length, 2);
    const [a, b] = players;
    // Between hands the folded state agrees: stacks add up to the buy-ins less the rake.
    const stacks = a.state.occupied().map((view) => view.stack);
    assert.equal(stacks.length, 2);
    assert.ok(stacks.reduce((x, y) => x + y, 0) <= 400);
    assert.deepEqual(a.state.occupied(), b.state.occupied());
    // Leave: now, or after the running hand (cashed_out null: the hand's end says when; the
    // leaver gets no seat_changed for it). The chips reach the wallet right after: the table
    // pays what it owes with its next message.
    const handEnded = a.c.waitFor('hand_ended', () => true, 60_000);
    handEnded.catch(() => {}); // unused when no hand was running
    const left = await a.c.leaveTable(tableId);
    if (left.cashed_out === null) await handEnded;
    const stack = left.cashed_out ?? a.state.seats[a.seat].stack;
    const balance = await eventually(async () => {
      const now = await a.c.walletBalance();
      return now.balance === 1000 - 200 + stack ? now : undefined;
    }, { what: `a balance of ${1000 - 200 + stack}` });
    assert.ok(balance.balance <= 1000 - 200 + 400);
    // Both read the hands they played (b over JSON text frames), as PHH and as text.
    for (const { c } of players) {
      const page = await eventually(async () => {
        const hands = await c.myHands({ limit: 5 });
        return hands.hands.some((h) => h.table_id === tableId) ? hands : undefined;
      }, { what: 'a stored hand' });
      const played = page.hands.find((h) => h.table_id === tableId);
      assert.equal(played.players.length, 2);
      const phh = await c.myHand(played.hand_id);
      assert.match(phh.history, /^variant = 'NT'/m);
      const text = await c.myHand(played.hand_id, 'text');
      assert.equal(text.format, 'text');
      assert.equal(text.hand.hand_id, played.hand_id);
      await assert.rejects(c.myHand('nobody:1:1'), (error) => error.code === 'unknown_hand');
    }
    const history = await a.c.walletHistory();
    assert.deepEqual(history.entries.slice(0, 2).map((e) => e.kind).sort(), ['buy_in', 'cash_out'].sort());
  });
});

describe('resume', () => {
  test('after a dropped connection the client resumes and misses no push', async () => {
    const tableId = await openTable(`sdk-resume-${env.runTag}`.slice(0, 64));
    // Paused: no hand starts, so the pushes below are the only ones and nobody's clock runs.
    await admin('POST', `/tables/${tableId}/pause`, { reason: 'client tests: resume' });
    const names = [uniqueName('ra'), uniqueName('rb')];
    const [a, b] = [await client(), await client()];
    await a.register(names[0], PASSWORD);
    await b.register(names[1], PASSWORD);
    await fund(names[0], 500);
    await fund(names[1], 500);
    const seqs = [];
    a.on('push', (_, seq) => seqs.push(seq));
    await a.joinTable({ tableId, buyIn: 100, seat: 0 });
    const bSeat = (await b.joinTable({ tableId, buyIn: 100, seat: 1 })).seat;
    const resumed = new Promise((resolve) => a.on('state', (state, detail) => state === 'open' && detail.resumed && resolve()));
    const freed = a.waitFor('seat_changed', (s) => s.seat === bSeat && s.view === null, 30_000);
    a._socket.terminate(); // the network drops (no close frame)
    await b.leaveTable(tableId); // a push for A while A is away
    await resumed;
    await freed;
    assert.equal(a.reconnects, 1);
    const sorted = [...seqs].sort((x, y) => x - y);
    assert.deepEqual(seqs, sorted, 'in order');
    assert.equal(new Set(seqs).size, seqs.length, 'no duplicate');
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => seqs[0] + i), 'no gap');
  });
});

test('the retry delay follows retry_after_ms with bounded jitter', () => {
  const error = new ServerError({ type: 'error', id: 1, code: 'server_busy', message: '', retry_after_ms: 400 });
  assert.equal(error.retryable, true);
  assert.equal(retryDelayMs(error, 0, () => 0), 400);
  assert.equal(retryDelayMs(error, 0, () => 0.999999), 400 * (1 + 0.5 * 0.999999));
  assert.ok(retryDelayMs(error, 100, () => 1) <= 30_000);
});

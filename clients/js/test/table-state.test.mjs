// TableState folds a table's pushes; no server needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TableState } from '../src/table-state.mjs';

const T = 't1';
const listing = {
  table_id: T, name: 'T', variant: 'NT', small_blind: 1, big_blind: 2, buy_in_min: 80,
  buy_in_max: 400, seats_total: 6, seats_taken: 2, waiting: 0, average_pot: 0, hands_per_hour: 0,
};
const view = (seat, stack) => ({ seat, player_id: 10 + seat, stack, state: 'playing', connected: true, in_hand: false });

function started() {
  const table = new TableState(T);
  table.apply({ type: 'table_snapshot', table_id: T, listing, seats: [view(0, 200), view(3, 200)], button: null, hand_number: 0, board: [], pots: [], bets: [], hole_cards: [], to_act: null });
  table.apply({ type: 'hand_started', table_id: T, hand_number: 1, button: 0, seats: [0, 3], stacks: [200, 200], small_blind_seat: 0, big_blind_seat: 3 });
  table.apply({ type: 'blind_posted', table_id: T, hand_number: 1, seat: 0, kind: 'small', amount: 1, all_in: false });
  table.apply({ type: 'blind_posted', table_id: T, hand_number: 1, seat: 3, kind: 'big', amount: 2, all_in: false });
  return table;
}

test('blinds come off the stacks and sit in front of the seats', () => {
  const table = started();
  assert.equal(table.seats[0].stack, 199);
  assert.equal(table.seats[3].stack, 198);
  assert.deepEqual([...table.bets], [[0, 1], [3, 2]]);
  assert.equal(table.potTotal(), 3);
  assert.ok(table.handRunning);
});

test('a prompt runs the clock, then the time bank, until the seat acts', () => {
  const table = started();
  table.apply({ type: 'action_required', table_id: T, hand_number: 1, seat: 0, legal: { fold: true, call: 1, min_raise_to: 4, max_raise_to: 200 }, act_within_ms: 15000, time_bank_ms: 30000 }, 1000);
  assert.equal(table.toAct, 0);
  assert.equal(table.clockMs(6000), 10000);
  table.apply({ type: 'time_bank_started', table_id: T, hand_number: 1, seat: 0, time_bank_ms: 30000 }, 16000);
  assert.equal(table.clockMs(20000), 26000);
  table.apply({ type: 'action_taken', table_id: T, hand_number: 1, seat: 0, action: 'raise', amount: 5, bet_to: 6, all_in: false });
  assert.equal(table.prompt, null);
  assert.equal(table.seats[0].stack, 194);
  assert.equal(table.bets.get(0), 6);
  assert.equal(table.lastAction.get(0), 'raise 6');
});

test('the board collects the street bets; the hand end sets the finishing stacks', () => {
  const table = started();
  table.apply({ type: 'hole_cards', table_id: T, hand_number: 1, seat: 0, cards: ['As', 'Kd'] });
  table.apply({ type: 'action_taken', table_id: T, hand_number: 1, seat: 0, action: 'call', amount: 1, bet_to: 2, all_in: false });
  table.apply({ type: 'pots_changed', table_id: T, hand_number: 1, pots: [{ amount: 4, eligible: [0, 3] }] });
  table.apply({ type: 'board_dealt', table_id: T, hand_number: 1, street: 'flop', cards: ['2c', '7h', 'Td'], run: 0 });
  assert.deepEqual(table.board, ['2c', '7h', 'Td']);
  assert.equal(table.bets.size, 0);
  assert.equal(table.potTotal(), 4);
  assert.deepEqual(table.holeCards, ['As', 'Kd']);
  table.apply({ type: 'hand_ended', table_id: T, hand_number: 1, seats: [0, 3], stacks: [204, 196], rake: 0 });
  assert.equal(table.handRunning, false);
  assert.equal(table.seats[0].stack, 204);
  assert.equal(table.handsEnded, 1);
});

test('pushes of another table or an older hand change nothing', () => {
  const table = started();
  assert.equal(table.apply({ type: 'hand_started', table_id: 'other', hand_number: 9, button: 0, seats: [], stacks: [], small_blind_seat: null, big_blind_seat: 0 }), false);
  table.apply({ type: 'hand_ended', table_id: T, hand_number: 1, seats: [0, 3], stacks: [201, 199], rake: 0 });
  table.apply({ type: 'hand_started', table_id: T, hand_number: 2, button: 3, seats: [0, 3], stacks: [201, 199], small_blind_seat: 3, big_blind_seat: 0 });
  assert.equal(table.apply({ type: 'action_taken', table_id: T, hand_number: 1, seat: 0, action: 'fold', amount: 0, bet_to: 0, all_in: false }), false);
  assert.equal(table.handNumber, 2);
});

test('a paused table says so', () => {
  const table = started();
  table.apply({ type: 'table_status_changed', table_id: T, status: 'paused' });
  assert.equal(table.status, 'paused');
});

test('a hand deal is collected for the fairness check, and verifies (vector 1)', async () => {
  const { verifyObserved, commitment } = await import('../src/fairness.mjs');
  const seed = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0')).join('');
  const committed = await commitment(seed);
  const table = new TableState(T);
  table.apply({ type: 'table_snapshot', table_id: T, listing, seats: [view(0, 200), view(1, 200)], button: null, hand_number: 0, board: [], pots: [], bets: [], hole_cards: [], to_act: null });
  table.apply({ type: 'deal_commitment', table_id: T, hand_number: 1, commitment: committed, scheme: 'tablium-fair-v1' });
  // docs/fairness.md vector 1, heads-up: the big blind (seat 1) is dealt first.
  table.apply({ type: 'hand_started', table_id: T, hand_number: 1, button: 0, seats: [1, 0], stacks: [200, 200], small_blind_seat: 0, big_blind_seat: 1, commitment: committed });
  table.apply({ type: 'hole_cards', table_id: T, hand_number: 1, seat: 1, cards: ['8h', '5d'] });
  for (const [street, cards] of [['flop', ['Kc', '2h', '5c']], ['turn', ['Qh']], ['river', ['8s']]]) {
    table.apply({ type: 'board_dealt', table_id: T, hand_number: 1, street, cards, run: 0 });
  }
  table.apply({ type: 'showdown', table_id: T, hand_number: 1, seat: 0, cards: ['2d', '2s'], mucked: false });
  table.apply({ type: 'hand_ended', table_id: T, hand_number: 1, seats: [1, 0], stacks: [196, 204], rake: 0, server_seed: seed, client_seeds: [] });
  const deal = table.lastDeal;
  assert.equal(deal.handId, 't1:1');
  assert.equal(deal.announced, deal.commitment);
  assert.equal(deal.ownSeat, 1);
  assert.deepEqual(deal.holeCards, { 0: ['2d', '2s'], 1: ['8h', '5d'] });
  assert.equal(table.deal, null);
  await verifyObserved(deal);
  const changed = { ...deal, boards: [[0, ['Kc', '2h', '5c']], [0, ['Qh']], [0, ['As']]] };
  await assert.rejects(verifyObserved(changed), (error) => error.code === 'deal_mismatch');
});

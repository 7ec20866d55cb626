// A table: seats with stacks and bets, the board and pots, my cards, whose turn it is with
// the clock and time bank, and my actions (keyboard: F fold, C check/call, R bet/raise to the
// slider's amount, A slider to all-in, arrows move the slider by a big blind, S show, M muck).
import { card, chips, clear, describeError, h } from '../dom.mjs';

const CLOCK_REDRAW_MS = 200;
const KEYS = { f: 'fold', c: 'check_or_call', r: 'bet_or_raise_to', s: 'show', m: 'muck' };

export function tableView(app, main, tableId) {
  const client = app.client;
  const state = app.table(tableId);
  let watching = false;
  let promptShown = null; // the prompt the action panel was built for
  let acting = false;

  const title = h('h1', { id: 'table-title' }, tableId);
  const status = h('div.table-status', { id: 'table-status', role: 'status' });
  const handInfo = h('span', { id: 'hand-number' });
  const handsEnded = h('span', { id: 'hands-ended' });
  const felt = h('div.felt', { id: 'felt' });
  const actions = h('div.actions', { id: 'actions', hidden: true });
  const controls = h('div.table-controls');
  const log = h('ol.table-log', { id: 'table-log' });

  const mySeat = () => app.mySeats[tableId] ?? null;
  const bigBlind = () => state.listing?.big_blind ?? 1;

  function seatLabel(view) {
    return view.seat === mySeat() ? 'You' : view.display_name || `Player ${view.player_id}`;
  }

  function seatPosition(seat) {
    const total = state.listing?.seats_total ?? 6;
    const offset = mySeat() ?? 0; // my seat at the bottom
    const angle = Math.PI / 2 + (2 * Math.PI * (seat - offset)) / total;
    return { left: `${50 + 42 * Math.cos(angle)}%`, top: `${50 + 38 * Math.sin(angle)}%` };
  }

  function seatCards(view) {
    if (view.seat === mySeat() && state.holeCards.length) {
      return h('div.seat-cards', { id: 'hole-cards', dataset: { cards: state.holeCards.join(' ') } }, state.holeCards.map(card));
    }
    const shown = state.shown.get(view.seat);
    if (shown && shown.length) return h('div.seat-cards.shown', {}, shown.map(card));
    if (view.in_hand && state.handRunning) {
      const count = state.listing?.variant?.startsWith('PO') ? 4 : 2;
      return h('div.seat-cards', {}, Array.from({ length: count }, () => card(null)));
    }
    return h('div.seat-cards');
  }

  function drawSeat(seat) {
    const view = state.seats[seat];
    const style = seatPosition(seat);
    if (view === null) {
      const free = mySeat() === null && state.listing && app.tournamentOf(tableId) === null;
      return h('div.seat.empty', { style, dataset: { seat } }, free ? h('button.sit', { onclick: () => sit(seat) }, `Sit here`) : `Seat ${seat + 1}`);
    }
    const classes = ['seat'];
    if (seat === mySeat()) classes.push('me');
    if (seat === state.toAct) classes.push('to-act');
    if (state.handRunning && !view.in_hand) classes.push('out');
    if (!view.connected) classes.push('away');
    const bet = state.bets.get(seat);
    return h(
      `div.${classes.join('.')}`,
      { style, dataset: { seat, player: view.player_id } },
      seat === state.button ? h('span.dealer-button', { title: 'dealer' }, 'D') : null,
      h('div.seat-name', {}, seatLabel(view), view.state !== 'playing' ? h('small', {}, ` ${view.state.replaceAll('_', ' ')}`) : null),
      h('div.seat-stack', { dataset: { stack: view.stack } }, chips(view.stack)),
      seatCards(view),
      h('div.seat-action', {}, state.lastAction.get(seat) ?? ''),
      bet ? h('div.seat-bet', {}, chips(bet)) : null,
      seat === state.toAct ? h('div.clock', {}, h('div.clock-bar'), h('span.clock-text')) : null,
    );
  }

  function drawFelt() {
    const total = state.listing?.seats_total ?? 6;
    const seats = Array.from({ length: total }, (_, seat) => drawSeat(seat));
    clear(
      felt,
      seats,
      h(
        'div.center',
        {},
        h('div.board', { id: 'board', dataset: { cards: state.board.join(' ') } }, state.board.map(card)),
        state.secondBoard.length ? h('div.board.second', {}, state.secondBoard.map(card)) : null,
        h('div.pot', { id: 'pot' }, state.handRunning || state.potTotal() ? `Pot ${chips(state.potTotal())}` : ''),
        state.awards.length ? h('div.awards', {}, state.awards.map((a) => h('div', {}, `${seatLabelOf(a.seat)} wins ${chips(a.amount)}${a.hand ? ` (${a.hand})` : ''}`))) : null,
      ),
    );
  }

  function seatLabelOf(seat) {
    const view = state.seats[seat];
    return view ? seatLabel(view) : `Seat ${seat + 1}`;
  }

  function drawClock(now = Date.now()) {
    const bar = felt.querySelector('.clock-bar');
    const text = felt.querySelector('.clock-text');
    const left = state.clockMs(now);
    if (!bar || left === null || state.prompt === null) return;
    const full = state.timeBank ? state.timeBank.ms : state.prompt.act_within_ms;
    bar.style.width = `${full ? (100 * left) / full : 0}%`;
    bar.classList.toggle('bank', state.timeBank !== null);
    text.textContent = `${Math.ceil(left / 1000)}s${state.timeBank ? ' time bank' : ''}`;
  }

  function drawActions() {
    const prompt = state.prompt;
    const mine = prompt !== null && prompt.seat === mySeat() && state.status !== 'closed';
    if (!mine) {
      actions.hidden = true;
      promptShown = null;
      return;
    }
    if (promptShown === prompt) return; // keep the slider where the player put it
    promptShown = prompt;
    const legal = prompt.legal;
    const buttons = [];
    if (legal.fold) buttons.push(h('button.fold', { id: 'act-fold', onclick: () => act('fold') }, 'Fold', h('kbd', {}, 'F')));
    if (legal.check) buttons.push(h('button.call', { id: 'act-call', onclick: () => act('check_or_call') }, 'Check', h('kbd', {}, 'C')));
    else if (legal.call !== null && legal.call !== undefined) {
      buttons.push(h('button.call', { id: 'act-call', onclick: () => act('check_or_call') }, `Call ${chips(legal.call)}`, h('kbd', {}, 'C')));
    }
    let raise = null;
    if (legal.min_raise_to !== null && legal.min_raise_to !== undefined) {
      const facing = Math.max(0, ...state.bets.values());
      const verb = facing > 0 ? 'Raise to' : 'Bet';
      const slider = h('input', { id: 'raise-slider', type: 'range', min: legal.min_raise_to, max: legal.max_raise_to, step: 1, value: legal.min_raise_to });
      const amount = h('input', { id: 'raise-amount', type: 'number', min: legal.min_raise_to, max: legal.max_raise_to, step: 1, value: legal.min_raise_to });
      const button = h('button.raise', { id: 'act-raise', onclick: () => act('bet_or_raise_to', Number(amount.value)) }, `${verb} `, h('span', { id: 'raise-label' }, chips(legal.min_raise_to)), h('kbd', {}, 'R'));
      const set = (value) => {
        const bounded = Math.min(legal.max_raise_to, Math.max(legal.min_raise_to, Math.round(Number(value) || 0)));
        slider.value = String(bounded);
        amount.value = String(bounded);
        button.querySelector('#raise-label').textContent = chips(bounded);
      };
      slider.addEventListener('input', () => set(slider.value));
      amount.addEventListener('change', () => set(amount.value));
      raise = { slider, amount, set, legal };
      buttons.push(h('div.raise-box', {}, slider, amount, button,
        h('button.small', { id: 'raise-all-in', type: 'button', onclick: () => set(legal.max_raise_to) }, 'All-in', h('kbd', {}, 'A'))));
    }
    if (legal.show) buttons.push(h('button', { id: 'act-show', onclick: () => act('show') }, 'Show', h('kbd', {}, 'S')));
    if (legal.muck) buttons.push(h('button', { id: 'act-muck', onclick: () => act('muck') }, 'Muck', h('kbd', {}, 'M')));
    if (legal.run_it_twice) {
      buttons.push(h('button', { id: 'act-rit-yes', onclick: () => act('run_it_twice', 0, true) }, 'Run it twice'));
      buttons.push(h('button', { id: 'act-rit-no', onclick: () => act('run_it_twice', 0, false) }, 'Once'));
    }
    actions.raise = raise;
    clear(actions, h('span.your-turn', {}, 'Your turn'), buttons);
    actions.hidden = false;
  }

  function drawControls() {
    const seat = mySeat();
    const view = seat === null ? null : state.seats[seat];
    const buttons = [];
    const tournamentId = app.tournamentOf(tableId);
    if (tournamentId !== null) {
      // A tournament seat: the tournament moves me, and I leave it only by busting.
      buttons.push(h('a.tournament-link', { id: 'table-tournament', href: `#/tournament/${tournamentId}` }, `Tournament ${tournamentId}`));
    } else if (seat !== null) {
      buttons.push(h('button', { id: 'leave-table', onclick: leave }, 'Leave table'));
      if (view && view.state === 'sitting_out') buttons.push(h('button', { id: 'sit-in', onclick: () => call(() => client.postMissedBlinds(tableId)) }, "I'm back"));
      else if (view) buttons.push(h('button', { id: 'sit-out', onclick: () => call(() => client.sitOut(tableId)) }, 'Sit out'));
    }
    clear(controls, buttons);
  }

  function draw() {
    const listing = state.listing;
    title.textContent = listing ? `${listing.name} — ${chips(listing.small_blind)}/${chips(listing.big_blind)}` : tableId;
    status.textContent = state.status === 'open' ? '' : { paused: 'Paused by the director: no new hand starts', closing: 'The table is closing', closed: 'The table is closed' }[state.status] ?? state.status;
    status.dataset.status = state.status;
    handInfo.textContent = state.handRunning ? `Hand #${state.handNumber}` : 'Between hands';
    handInfo.dataset.hand = state.handRunning ? state.handNumber : 0;
    handsEnded.textContent = `${state.handsEnded} hands seen`;
    handsEnded.dataset.count = state.handsEnded;
    drawFelt();
    drawClock();
    drawActions();
    drawControls();
    clear(log, state.log.slice(-12).map((line) => h('li', {}, line)));
    main.dataset.ready = state.listing ? 'true' : 'false';
  }

  async function call(operation) {
    try {
      await operation();
    } catch (error) {
      app.flash(describeError(error));
    }
  }

  async function act(action, amount = 0, agree = false) {
    const prompt = state.prompt;
    if (acting || prompt === null || prompt.seat !== mySeat()) return;
    acting = true;
    actions.classList.add('busy');
    try {
      await client.act(prompt, action, { amount, agree });
    } catch (error) {
      app.flash(describeError(error));
    } finally {
      acting = false;
      actions.classList.remove('busy');
    }
  }

  async function sit(seat) {
    const listing = state.listing;
    const buyIn = Math.min(listing.buy_in_max, Math.max(listing.buy_in_min, listing.big_blind * 100));
    try {
      const seated = await client.joinTable({ tableId, buyIn, seat });
      app.rememberSeat(tableId, seated.seat);
      draw();
    } catch (error) {
      app.flash(describeError(error));
    }
  }

  async function leave() {
    try {
      const left = await client.leaveTable(tableId);
      if (left.cashed_out === null) {
        app.leaving.add(tableId);
        app.flash('You leave when this hand ends; your chips go back to your wallet then.');
      }
      else {
        app.rememberSeat(tableId, null);
        app.flash(`You left the table with ${chips(left.cashed_out)} chips.`);
      }
      draw();
    } catch (error) {
      app.flash(describeError(error));
    }
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || actions.hidden) return;
    const target = event.target;
    if (target instanceof HTMLInputElement && target.type !== 'range') return;
    const key = event.key.toLowerCase();
    const raise = actions.raise;
    if (key === 'a' && raise) raise.set(raise.legal.max_raise_to);
    else if ((key === 'arrowup' || key === 'arrowright') && raise) raise.set(Number(raise.amount.value) + bigBlind());
    else if ((key === 'arrowdown' || key === 'arrowleft') && raise) raise.set(Number(raise.amount.value) - bigBlind());
    else if (key === 'r' && raise) act('bet_or_raise_to', Number(raise.amount.value));
    else if (key === 'c') act('check_or_call');
    else if (KEYS[key] && key !== 'r' && key !== 'c') {
      const id = { fold: 'act-fold', show: 'act-show', muck: 'act-muck' }[KEYS[key]];
      if (actions.querySelector(`#${id}`)) act(KEYS[key]);
    } else return;
    event.preventDefault();
  }

  clear(
    main,
    h('section.table-view', { dataset: { table: tableId } },
      h('div.table-head', {}, title, handInfo, handsEnded, controls),
      status, felt, actions, log),
  );
  main.classList.add('table-page');

  let redraw = 0;
  const stop = app.watch((body) => {
    if (body.table_id !== tableId) return;
    if (!redraw) redraw = setTimeout(() => { redraw = 0; draw(); }, 16);
  });
  const timer = setInterval(() => drawClock(), CLOCK_REDRAW_MS);
  document.addEventListener('keydown', onKey);
  if (mySeat() === null && state.listing === null) {
    client.watch(tableId).then(() => { watching = true; }, (error) => app.flash(describeError(error)));
  }
  draw();
  return () => {
    stop();
    clearInterval(timer);
    document.removeEventListener('keydown', onKey);
    if (redraw) clearTimeout(redraw);
    main.classList.remove('table-page');
    if (watching) client.unwatch(tableId).catch(() => {});
  };
}

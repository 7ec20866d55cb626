// The lobby: tables by game and stakes, updated live (subscribe_lobby), joining, watching,
// and quick seat.
import { VARIANTS, chips, clear, describeError, h } from '../dom.mjs';

export function lobbyView(app, main) {
  const client = app.client;
  const listings = new Map(); // table id -> listing
  const rows = h('tbody', { id: 'lobby-tables' });
  const balance = h('span', { id: 'lobby-balance' }, '…');
  const variant = h('select', { id: 'filter-variant' }, h('option', { value: '' }, 'Any game'),
    Object.entries(VARIANTS).map(([code, label]) => h('option', { value: code }, label)));
  const bigBlind = h('input', { id: 'filter-big-blind', type: 'number', min: 1, placeholder: 'Any big blind' });
  let alive = true;
  let subscribed = false;

  function filter() {
    return { variant: variant.value || null, bigBlind: bigBlind.value ? Number(bigBlind.value) : null };
  }

  function draw() {
    const sorted = [...listings.values()].sort((a, b) => a.big_blind - b.big_blind || a.name.localeCompare(b.name));
    clear(rows, sorted.length ? sorted.map(row) : h('tr', {}, h('td', { colSpan: 8 }, 'No table matches.')));
  }

  function row(listing) {
    const seated = app.mySeats[listing.table_id] !== undefined;
    const buyIn = h('input.buy-in', {
      type: 'number', min: listing.buy_in_min, max: listing.buy_in_max, step: 1,
      value: Math.min(listing.buy_in_max, Math.max(listing.buy_in_min, listing.big_blind * 100)),
      title: `buy-in ${listing.buy_in_min}-${listing.buy_in_max}`,
    });
    const join = h('button.primary', {
      className: 'primary join',
      disabled: listing.seats_taken >= listing.seats_total,
      onclick: async () => {
        join.disabled = true;
        try {
          const seated = await client.joinTable({ tableId: listing.table_id, buyIn: Number(buyIn.value) });
          app.rememberSeat(seated.table_id, seated.seat);
          location.hash = `#/table/${encodeURIComponent(seated.table_id)}`;
        } catch (error) {
          app.flash(describeError(error));
          join.disabled = false;
        }
      },
    }, 'Join');
    const open = () => { location.hash = `#/table/${encodeURIComponent(listing.table_id)}`; };
    return h(
      'tr',
      { dataset: { table: listing.table_id } },
      h('td.name', {}, listing.name),
      h('td', {}, VARIANTS[listing.variant] ?? listing.variant),
      h('td', {}, `${chips(listing.small_blind)}/${chips(listing.big_blind)}`),
      h('td.seats', {}, `${listing.seats_taken}/${listing.seats_total}`),
      h('td', {}, listing.waiting),
      h('td', {}, chips(listing.average_pot)),
      h('td', {}, listing.hands_per_hour),
      h('td', {}, h('div.row-actions', {}, seated ? h('button.primary', { className: 'primary open', onclick: open }, 'Open') : [buyIn, join],
        h('button.watch', { onclick: open }, 'Watch'))),
    );
  }

  async function subscribe() {
    try {
      if (subscribed) await client.unsubscribeLobby();
      const reply = await client.subscribeLobby(filter());
      subscribed = true;
      if (!alive) return;
      listings.clear();
      for (const listing of reply.tables) listings.set(listing.table_id, listing);
      draw();
    } catch (error) {
      app.flash(describeError(error));
    }
  }

  async function refreshBalance() {
    try {
      const reply = await client.walletBalance();
      if (alive) balance.textContent = chips(reply.available);
    } catch (error) {
      if (alive) balance.textContent = error.code === 'wallet_unavailable' ? 'none' : '?';
    }
  }

  const stop = app.watch((body) => {
    if (body.type === 'lobby_table_changed') {
      const wanted = filter();
      const listing = body.listing;
      const matches = (!wanted.variant || wanted.variant === listing.variant) && (!wanted.bigBlind || wanted.bigBlind === listing.big_blind);
      if (matches) listings.set(listing.table_id, listing);
      else listings.delete(listing.table_id);
      draw();
    } else if (body.type === 'lobby_table_removed') {
      listings.delete(body.table_id);
      draw();
    }
  });

  const quickVariant = h('select', { id: 'quick-variant' }, Object.entries(VARIANTS).map(([code, label]) => h('option', { value: code }, label)));
  const quickBigBlind = h('input', { id: 'quick-big-blind', type: 'number', min: 1, value: 2 });
  const quickBuyIn = h('input', { id: 'quick-buy-in', type: 'number', min: 1, value: 200 });
  async function quickSeat(event) {
    event.preventDefault();
    try {
      const seated = await client.quickSeat({ variant: quickVariant.value, bigBlind: Number(quickBigBlind.value), buyIn: Number(quickBuyIn.value) });
      app.rememberSeat(seated.table_id, seated.seat);
      location.hash = `#/table/${encodeURIComponent(seated.table_id)}`;
    } catch (error) {
      app.flash(describeError(error));
    }
  }

  variant.addEventListener('change', subscribe);
  bigBlind.addEventListener('change', subscribe);
  clear(
    main,
    h('div.lobby-head', {}, h('h1', {}, 'Lobby'), h('p.balance', {}, 'Available: ', balance, ' chips')),
    h('div.filters', {}, variant, bigBlind),
    h('table.lobby', {}, h('thead', {}, h('tr', {}, ['Table', 'Game', 'Stakes', 'Seats', 'Waiting', 'Avg pot', 'Hands/h', ''].map((t) => h('th', {}, t)))), rows),
    h('form.quick-seat', { id: 'quick-seat', onsubmit: quickSeat }, h('h2', {}, 'Quick seat'), quickVariant,
      h('label', {}, 'Big blind', quickBigBlind), h('label', {}, 'Buy-in', quickBuyIn), h('button.primary', { type: 'submit' }, 'Find me a seat')),
  );
  subscribe();
  refreshBalance();
  return () => {
    alive = false;
    stop();
    if (subscribed) client.unsubscribeLobby().catch(() => {});
  };
}

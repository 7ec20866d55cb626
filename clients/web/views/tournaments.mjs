// The tournament lobby (subscribe_tournaments: the list, updated live, filtered by state) and
// one tournament's page (get_tournament: structure, level and clock, prize pool and payouts,
// tables, my entries; register, unregister, re-enter). Tables themselves are the ordinary
// table view: app.mjs sends the player to her table when she is seated or moved.
import { chips, clear, describeError, h } from '../dom.mjs';

const STATES = { registering: 'Registering', running: 'Running', finished: 'Finished', cancelled: 'Cancelled' };
const DETAILS_REFRESH_MS = 2000;

function price(line) {
  const parts = [line.buy_in, line.fee, line.bounty].filter((p) => p > 0);
  return parts.length ? parts.map(chips).join(' + ') : 'Free';
}

function startsAt(line) {
  if (line.kind === 'sng') return `when ${line.entries_max} are in`;
  return line.starts_at_ms ? new Date(line.starts_at_ms).toLocaleString() : 'when the director starts it';
}

export function tournamentLobbyView(app, main) {
  const client = app.client;
  const lines = new Map(); // tournament id -> line
  const rows = h('tbody', { id: 'tournament-rows' });
  const state = h('select', { id: 'filter-tournament-state' }, h('option', { value: '' }, 'Any state'),
    Object.entries(STATES).map(([value, label]) => h('option', { value }, label)));
  let alive = true;
  let subscribed = false;

  function draw() {
    const sorted = [...lines.values()].sort((a, b) => b.tournament_id - a.tournament_id);
    clear(rows, sorted.length ? sorted.map(row) : h('tr', {}, h('td', { colSpan: 7 }, 'No tournament matches.')));
  }

  function row(line) {
    const open = () => { location.hash = `#/tournament/${line.tournament_id}`; };
    return h(
      'tr',
      { dataset: { tournament: line.tournament_id, state: line.state } },
      h('td.name', {}, h('a', { href: `#/tournament/${line.tournament_id}` }, line.name)),
      h('td', {}, line.kind === 'sng' ? 'Sit & go' : 'MTT', line.bounty_kind !== 'none' ? ` (${line.bounty_kind} bounty)` : ''),
      h('td', {}, price(line), line.asset === 'play' ? ' (play)' : ''),
      h('td.state', {}, STATES[line.state] ?? line.state, line.level ? ` — level ${line.level}` : ''),
      h('td.entries', {}, `${line.entries} entries, ${line.players_left} left`),
      h('td', {}, chips(line.prize_pool)),
      h('td', {}, h('button.open', { onclick: open }, line.state === 'registering' ? 'Details / register' : 'Details')),
    );
  }

  async function subscribe() {
    try {
      const reply = await client.request({ type: 'subscribe_tournaments', state: state.value || null });
      subscribed = true;
      if (!alive) return;
      lines.clear();
      for (const line of reply.tournaments) lines.set(line.tournament_id, line);
      draw();
    } catch (error) {
      app.flash(describeError(error));
    }
  }

  const stop = app.watch((body) => {
    if (body.type !== 'tournament_lobby_changed') return;
    const line = body.tournament;
    if (!state.value || state.value === line.state) lines.set(line.tournament_id, line);
    else lines.delete(line.tournament_id);
    draw();
  });
  state.addEventListener('change', subscribe); // a new subscription replaces the old one
  clear(
    main,
    h('div.lobby-head', {}, h('h1', {}, 'Tournaments')),
    h('div.filters', {}, state),
    h('table.lobby.tournaments', {}, h('thead', {}, h('tr', {}, ['Tournament', 'Type', 'Buy-in', 'State', 'Entries', 'Prize pool', ''].map((t) => h('th', {}, t)))), rows),
  );
  subscribe();
  return () => {
    alive = false;
    stop();
    if (subscribed) client.request({ type: 'unsubscribe_tournaments' }).catch(() => {});
  };
}

export function tournamentView(app, main, tournamentId) {
  const client = app.client;
  const id = Number(tournamentId);
  const title = h('h1', { id: 'tournament-title' }, `Tournament ${id}`);
  const summary = h('dl.tournament-summary', { id: 'tournament-summary' });
  const actions = h('div.tournament-actions', { id: 'tournament-actions' });
  const mine = h('div', { id: 'my-entries' });
  const tables = h('ul.tournament-tables', { id: 'tournament-tables' });
  const payouts = h('ol.payouts', { id: 'tournament-payouts' });
  const levels = h('tbody', { id: 'tournament-levels' });
  let alive = true;
  let busy = false;

  function term(label, value, key) {
    return [h('dt', {}, label), h('dd', { dataset: { field: key } }, value)];
  }

  function clock(ms) {
    if (ms < 0) return '—';
    const s = Math.ceil(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  function draw(view) {
    const line = view.line;
    title.textContent = line.name;
    main.dataset.state = line.state;
    const level = view.level;
    clear(summary,
      term('State', STATES[line.state] ?? line.state, 'state'),
      term('Starts', startsAt(line), 'starts'),
      term('Buy-in', price(line), 'price'),
      term('Entries', `${line.entries} (${view.players_left} left)`, 'entries'),
      term('Prize pool', chips(line.prize_pool), 'prize-pool'),
      term('Level', level ? `${level.level}: ${chips(level.small_blind)}/${chips(level.big_blind)}${level.ante ? ` ante ${chips(level.ante)}` : ''}` : '—', 'level'),
      term('Next level in', view.on_break ? 'on break' : clock(view.level_remaining_ms), 'level-clock'),
      term('Next break in', clock(view.next_break_in_ms), 'break-clock'),
      term('Average stack', chips(view.average_stack), 'average-stack'),
      view.clock_paused ? term('Clock', 'paused by the director', 'paused') : null,
      view.hand_for_hand ? term('Play', 'hand-for-hand', 'hand-for-hand') : null,
    );
    clear(mine, view.my_entries.length
      ? h('ul', {}, view.my_entries.map((entry) => h('li', { dataset: { entry: entry.entry, status: entry.status } },
        `Entry ${entry.entry}: ${entry.status.replaceAll('_', ' ')}`,
        entry.stack ? `, ${chips(entry.stack)} chips` : '',
        entry.place ? `, finished ${entry.place}${entry.prize ? ` (won ${chips(entry.prize)})` : ''}` : '',
        entry.table_id ? [' — ', h('a', { href: `#/table/${encodeURIComponent(entry.table_id)}` }, 'go to my table')] : null)))
      : h('p', {}, 'You are not registered.'));
    const registered = view.my_entries.some((e) => e.status === 'registered');
    const buttons = [];
    if (view.may_register) {
      const again = view.my_entries.length > 0;
      buttons.push(h('button.primary', { id: 'tournament-register', onclick: () => change('register_tournament') }, again ? 'Re-enter' : `Register (${price(line)})`));
    }
    if (registered && line.state === 'registering') {
      buttons.push(h('button', { id: 'tournament-unregister', onclick: () => change('unregister_tournament') }, 'Unregister'));
    }
    clear(actions, buttons);
    clear(tables, view.tables.map((t) => h('li', { dataset: { table: t.table_id } },
      h('a', { href: `#/table/${encodeURIComponent(t.table_id)}` }, t.table_id), ` ${t.players} players${t.in_hand ? ', in a hand' : ''}`)));
    clear(payouts, view.payouts.slice(0, 50).map((amount) => h('li', {}, chips(amount))));
    clear(levels, view.levels.map((l) => h('tr', { className: level && l.level === level.level ? 'current' : '' },
      h('td', {}, l.level), h('td', {}, `${chips(l.small_blind)}/${chips(l.big_blind)}`), h('td', {}, l.ante ? chips(l.ante) : ''),
      h('td', {}, `${l.duration} ${view.unit === 'hands' ? 'hands' : 'min'}`))));
    main.dataset.ready = 'true';
  }

  async function refresh() {
    try {
      const reply = await client.request({ type: 'get_tournament', tournament_id: id });
      if (alive) draw(reply.tournament);
    } catch (error) {
      if (alive) app.flash(describeError(error));
    }
  }

  async function change(type) {
    if (busy) return;
    busy = true;
    try {
      const reply = await client.request({ type, tournament_id: id });
      if (reply.type === 'tournament_registered') {
        app.flash(reply.reentry ? `Re-entered: entry ${reply.entry}.` : `Registered: entry ${reply.entry}.`);
      } else {
        app.flash('Unregistered: your buy-in is back in your wallet.');
      }
    } catch (error) {
      app.flash(describeError(error));
    } finally {
      busy = false;
      await refresh();
    }
  }

  const stop = app.watch((body) => {
    if (body.tournament_id === id && body.type.startsWith('tournament_')) refresh();
  });
  const timer = setInterval(refresh, DETAILS_REFRESH_MS);
  clear(
    main,
    h('section.tournament-view', { dataset: { tournament: id } },
      h('p', {}, h('a', { href: '#/tournaments' }, '← Tournaments')),
      title, summary, actions,
      h('h2', {}, 'My entries'), mine,
      h('h2', {}, 'Tables'), tables,
      h('h2', {}, 'Payouts'), payouts,
      h('h2', {}, 'Structure'),
      h('table.levels', {}, h('thead', {}, h('tr', {}, ['Level', 'Blinds', 'Ante', 'Length'].map((t) => h('th', {}, t)))), levels)),
  );
  main.dataset.ready = 'false';
  refresh();
  return () => {
    alive = false;
    stop();
    clearInterval(timer);
  };
}

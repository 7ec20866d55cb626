// The director's dashboard: the live actor tree, the tables with their state, pause, resume
// and close, and the tournaments with their state and clock, pause and resume, and the
// start time of a multi-table tournament still registering (reschedule). It calls the
// admin API (docs/admin.md) of the server that serves this page, with
// a staff token (`tablium token --player NAME --role director`), kept for this tab only.
import { chips, clear, h } from './dom.mjs';

const REFRESH_MS = 1500;
const TOKEN_KEY = 'tablium.staffToken';
const api = new URL('../', location.href); // the admin API's root: /client/ is one level down

class AdminApiError extends Error {
  constructor(status, body) {
    super(`${status} ${body.error ?? ''}: ${body.message ?? ''}`);
    this.status = status;
    this.code = body.error;
  }
}

async function call(method, path, body) {
  const response = await fetch(new URL(path, api), {
    method,
    headers: {
      Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}`,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) throw new AdminApiError(response.status, payload);
  return payload;
}

const root = document.getElementById('app');
const notice = h('div.notice', { id: 'notice', role: 'status' });
const tablesBody = h('tbody', { id: 'director-tables' });
const tournamentsBody = h('tbody', { id: 'director-tournaments' });
const LIVE_STATES = new Set(['registering', 'running']);
const tree = h('div.actor-tree', { id: 'actor-tree' });
const updated = h('span.updated', { id: 'director-updated' });
const reason = h('input', { id: 'director-reason', value: 'director action from the dashboard', maxLength: 200 });
let timer = null;

function flash(text) {
  notice.textContent = text;
}

function loginForm() {
  const token = h('input', { id: 'staff-token', type: 'password', placeholder: 'staff token', autocomplete: 'off' });
  const message = h('p.error', { role: 'alert' });
  const onsubmit = async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, token.value.trim());
    try {
      await call('GET', 'tables');
      start();
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      message.textContent = error.message;
    }
  };
  clear(root, h('section.card-panel.login', {},
    h('h1', {}, 'Director'),
    h('p', {}, 'A staff token with the director (or admin) role: ', h('code', {}, 'tablium token --player NAME --role director')),
    h('form', { id: 'staff-login', onsubmit }, token, h('button.primary', { type: 'submit' }, 'Open the dashboard'), message)));
  token.focus();
}

function drawNode(node) {
  const facts = [node.kind, node.state];
  if (node.mailbox_depth !== undefined) facts.push(`mailbox ${node.mailbox_depth}/${node.mailbox_capacity}`);
  if (node.restarts) facts.push(`${node.restarts} restarts`);
  if (node.messages_processed !== undefined) facts.push(`${node.messages_processed} msgs`);
  const children = node.children ?? [];
  return h('li', { dataset: { actor: node.name, state: node.state } },
    h('span.actor-name', {}, node.name), ' ', h('span.actor-facts', {}, facts.join(' · ')),
    children.length ? h('ul', {}, children.map(drawNode)) : null);
}

function operate(tableId, action) {
  return async () => {
    try {
      const detail = await call('POST', `tables/${encodeURIComponent(tableId)}/${action}`, { reason: reason.value || `${action} from the dashboard` });
      flash(`${tableId}: ${detail.status}`);
      await refresh();
    } catch (error) {
      flash(`${tableId}: ${error.message}`);
    }
  };
}

function tableRow(listing, detail) {
  const status = detail?.status ?? '?';
  const seats = detail?.seats;
  return h('tr', { dataset: { table: listing.table_id, status } },
    h('td', {}, h('strong', {}, listing.name), h('br'), h('small', {}, listing.table_id)),
    h('td', {}, `${listing.variant} ${chips(listing.small_blind)}/${chips(listing.big_blind)}`),
    h('td.status', {}, h(`span.badge.${status}`, {}, status)),
    h('td', {}, `${listing.seats_taken}/${listing.seats_total}`),
    h('td', {}, seats ? (seats.hand_number ? `#${seats.hand_number}` : '—') : '?'),
    h('td', {}, seats ? seats.hands_played : '?'),
    h('td', {}, seats ? seats.seats.map((s) => `${s.seat + 1}: #${s.player_id} ${chips(s.stack)}${s.sitting_out ? ' (out)' : ''}${s.connected ? '' : ' (away)'}`).join(', ') || 'empty' : '?'),
    h('td', {}, detail ? chips(detail.escrow_balance) : '?'),
    h('td.row-actions', {},
      status === 'open' ? h('button', { className: 'pause', onclick: operate(listing.table_id, 'pause') }, 'Pause') : null,
      status === 'paused' ? h('button', { className: 'resume', onclick: operate(listing.table_id, 'resume') }, 'Resume') : null,
      status === 'open' || status === 'paused' ? h('button', { className: 'close danger', onclick: operate(listing.table_id, 'close') }, 'Close') : null),
  );
}

function operateTournament(tournamentId, action) {
  return async () => {
    try {
      await call('POST', `tournaments/${tournamentId}/${action}`, { reason: reason.value || `${action} from the dashboard` });
      flash(`tournament ${tournamentId}: ${action}d`);
      await refresh();
    } catch (error) {
      flash(`tournament ${tournamentId}: ${error.message}`);
    }
  };
}

// Start times being edited, by tournament (the rows are drawn again at every refresh).
const editedStarts = new Map();

/** A time in ms as a datetime-local input's value (the browser's time zone, minutes). */
function localInput(ms) {
  const local = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function reschedule(tournamentId, input) {
  return async () => {
    const startsAt = new Date(input.value).getTime(); // no zone given: the browser's own
    if (!Number.isFinite(startsAt)) {
      flash(`tournament ${tournamentId}: choose a start time`);
      return;
    }
    try {
      await call('POST', `tournaments/${tournamentId}/schedule`, {
        starts_at_ms: startsAt, reason: reason.value || 'rescheduled from the dashboard',
      });
      editedStarts.delete(tournamentId);
      flash(`tournament ${tournamentId}: starts ${new Date(startsAt).toLocaleString()}`);
      await refresh();
    } catch (error) {
      flash(`tournament ${tournamentId}: ${error.message}`);
    }
  };
}

function scheduleControl(line) {
  const id = line.tournament_id;
  const current = line.starts_at_ms != null ? localInput(line.starts_at_ms) : '';
  const input = h('input', {
    className: 'starts-at', type: 'datetime-local', value: editedStarts.get(id) ?? current,
    oninput: () => editedStarts.set(id, input.value), 'aria-label': `start time of tournament ${id}`,
  });
  return [input, h('button', { className: 'reschedule', onclick: reschedule(id, input) }, 'Reschedule')];
}

function tournamentRow(line, view) {
  const details = view?.details;
  const paused = details?.clock_paused ?? false;
  const state = paused ? 'paused' : line.state;
  const level = details?.level;
  const startsAt = line.starts_at_ms != null ? String(line.starts_at_ms) : '';
  return h('tr', { dataset: { tournament: line.tournament_id, state, startsAt } },
    h('td', {}, h('strong', {}, line.name), h('br'), h('small', {}, `#${line.tournament_id} ${line.kind}`),
      line.state === 'registering' && line.starts_at_ms != null
        ? [h('br'), h('small.starts', {}, `starts ${new Date(line.starts_at_ms).toLocaleString()}`)] : null),
    h('td.status', {}, h(`span.badge.${state}`, {}, state)),
    h('td', {}, level ? `${line.level}: ${chips(level.small_blind)}/${chips(level.big_blind)}` : '—'),
    h('td', {}, details && line.state === 'running' ? `${Math.max(0, Math.round(details.level_remaining_ms / 1000))} s` : '—'),
    h('td', {}, `${line.players_left} / ${line.entries}`),
    h('td', {}, details ? details.tables.length : '?'),
    h('td', {}, chips(line.prize_pool)),
    h('td.row-actions', {},
      line.state === 'running' && !paused ? h('button', { className: 'pause', onclick: operateTournament(line.tournament_id, 'pause') }, 'Pause') : null,
      line.state === 'running' && paused ? h('button', { className: 'resume', onclick: operateTournament(line.tournament_id, 'resume') }, 'Resume') : null,
      line.state === 'registering' && line.kind === 'mtt' ? scheduleControl(line) : null),
  );
}

async function refresh() {
  try {
    const [{ tables }, actors, { tournaments }] = await Promise.all([
      call('GET', 'tables'), call('GET', 'actors'), call('GET', 'tournaments'),
    ]);
    const details = await Promise.all(tables.map((t) => call('GET', `tables/${encodeURIComponent(t.table_id)}`).catch(() => null)));
    clear(tablesBody, tables.map((listing, i) => tableRow(listing, details[i])));
    const live = tournaments.filter((t) => LIVE_STATES.has(t.state));
    const views = await Promise.all(live.map((t) => call('GET', `tournaments/${t.tournament_id}?limit=1`).catch(() => null)));
    // Not while the director is typing a start time in a row: it would be drawn away.
    const typing = document.activeElement?.tagName === 'INPUT' && tournamentsBody.contains(document.activeElement);
    if (!typing) {
      clear(tournamentsBody, live.map((line, i) => tournamentRow(line, views[i])));
    }
    clear(tree, h('ul', {}, drawNode(actors)));
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      clearInterval(timer);
      loginForm();
    }
    flash(error.message);
  }
}

function start() {
  clear(root,
    h('nav.top', {}, h('span.brand', {}, 'Tablium director'), h('span.spacer'), updated,
      h('button.link', { onclick: () => { sessionStorage.removeItem(TOKEN_KEY); location.reload(); } }, 'Sign out')),
    notice,
    h('main', { id: 'page' },
      h('h2', {}, 'Tables'),
      h('label.reason', {}, 'Reason for the audit log ', reason),
      h('table.director-tables', {}, h('thead', {}, h('tr', {}, ['Table', 'Game', 'Status', 'Seats', 'Hand', 'Hands', 'Players', 'Escrow', ''].map((t) => h('th', {}, t)))), tablesBody),
      h('h2', {}, 'Tournaments'),
      h('table.director-tournaments', {}, h('thead', {}, h('tr', {}, ['Tournament', 'State', 'Level', 'Left in level', 'Players left / entries', 'Tables', 'Prize pool', ''].map((t) => h('th', {}, t)))), tournamentsBody),
      h('h2', {}, 'Actor tree'),
      tree));
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

if (sessionStorage.getItem(TOKEN_KEY)) start();
else loginForm();

// The player's browser client: log in or register, the lobby, tables, the wallet.
// One TabliumClient for the tab; every push is folded into a TableState per table, whatever
// page is showing, so a page opened later (or after a reload) draws from current state.
import { TableState, TabliumClient } from './sdk/tablium.mjs';
import { clear, describeError, h } from './dom.mjs';
import { stored, websocketUrl } from './session.mjs';
import { loginView } from './views/login.mjs';
import { lobbyView } from './views/lobby.mjs';
import { tableView } from './views/table.mjs';
import { tournamentLobbyView, tournamentView } from './views/tournaments.mjs';
import { walletView } from './views/wallet.mjs';

class PlayerApp {
  constructor(root) {
    this.root = root;
    this.tables = new Map(); // table id -> TableState
    this.mySeats = stored.get().seats ?? {}; // table id -> my seat number
    // Tournament tables I sit at: table id -> tournament id (a tournament seats and moves me;
    // I never join or leave its tables myself).
    this.tournamentTables = stored.get().tournamentTables ?? {};
    this.leaving = new Set(); // tables I leave when their running hand ends
    this.watchers = new Set(); // page listeners: fn(body)
    this.dispose = null;
    this.statusLine = h('span.connection', { id: 'connection' }, 'connecting');
    this.notice = h('div.notice', { id: 'notice', role: 'status' });
  }

  async start() {
    const client = (this.client = new TabliumClient(await websocketUrl(), { clientName: 'tablium-web/0.1' }));
    client.on('push', (body, seq) => {
      stored.update({ lastSeq: seq });
      this.fold(body);
      for (const watcher of [...this.watchers]) watcher(body);
    });
    client.on('token', (token) => stored.update({ token, player: client.player }));
    client.on('state', (state, detail) => this.connectionChanged(state, detail));
    client.on('error', (error) => this.flash(describeError(error)));
    client.on('gap', () => this.flash('Some table updates were missed; the current state follows.'));
    addEventListener('hashchange', () => this.route());
    try {
      await client.connect();
    } catch (error) {
      this.flash(`Cannot reach the server at ${client.url}: ${describeError(error)}`);
      return;
    }
    const { token, lastSeq } = stored.get();
    if (token) {
      try {
        await client.authenticate(token, lastSeq ?? 0);
      } catch (error) {
        stored.forget();
        this.mySeats = {};
        this.flash(`Please log in again (${describeError(error)})`);
      }
    }
    this.route();
  }

  /** Fold a push into its table's state (created on first sight). */
  fold(body) {
    if (body.type.startsWith('tournament_')) {
      this.foldTournament(body);
      return;
    }
    if (body.type === 'session_state') {
      for (const tableId of body.table_ids) this.table(tableId);
      return;
    }
    if (body.type === 'hole_cards') this.rememberSeat(body.table_id, body.seat);
    if (body.type === 'seat_changed' && body.view === null && this.mySeats[body.table_id] === body.seat) {
      this.rememberSeat(body.table_id, null); // stood up (a cash-out after a hand, a close)
    }
    if (typeof body.table_id === 'string' && !body.type.startsWith('lobby_')) this.table(body.table_id).apply(body);
    // A player who asked to leave during a hand is stood up and paid when it ends (the
    // leaver gets no seat_changed for that).
    if ((body.type === 'hand_ended' || body.type === 'hand_voided') && this.leaving.delete(body.table_id)) {
      this.rememberSeat(body.table_id, null);
    }
  }

  /** A tournament seats me, moves me (I follow to the new table at once, without asking)
   * and takes me out. */
  foldTournament(body) {
    const page = decodeURIComponent(location.hash);
    if (body.type === 'tournament_seated') {
      this.tournamentSeat(body.tournament_id, body.table_id, body.seat);
      if (page === `#/tournament/${body.tournament_id}` || page === '#/tournaments') this.go(body.table_id);
    } else if (body.type === 'tournament_moved') {
      this.rememberSeat(body.from_table_id, null);
      delete this.tournamentTables[body.from_table_id];
      this.tournamentSeat(body.tournament_id, body.table_id, body.seat);
      const why = { balance: 'balancing the tables', break: 'your table was broken', director: 'the director' }[body.reason] ?? body.reason;
      this.flash(`You were moved to table ${body.table_id} (${why}).`);
      if (page === `#/table/${body.from_table_id}`) this.go(body.table_id);
      else if (page.startsWith('#/table/') || page === '#/lobby' || page === '') this.route(); // the navigation's links
    } else if (body.type === 'tournament_eliminated' || (body.type === 'tournament_state_changed' && ['finished', 'cancelled'].includes(body.state))) {
      for (const [tableId, tournamentId] of Object.entries(this.tournamentTables)) {
        if (tournamentId !== body.tournament_id) continue;
        this.rememberSeat(tableId, null);
        delete this.tournamentTables[tableId];
      }
      stored.update({ tournamentTables: this.tournamentTables });
      if (body.type === 'tournament_eliminated') this.flash(body.may_reenter ? 'You are out; you may re-enter while registration is open.' : 'You are out of the tournament.');
    } else if (body.type === 'tournament_placed') {
      this.flash(`You finished ${body.place}${body.prize ? `: ${body.prize} chips won` : ''}.`);
    }
  }

  tournamentSeat(tournamentId, tableId, seat) {
    this.tournamentTables[tableId] = tournamentId;
    stored.update({ tournamentTables: this.tournamentTables });
    this.rememberSeat(tableId, seat);
  }

  tournamentOf(tableId) {
    return this.tournamentTables[tableId] ?? null;
  }

  go(tableId) {
    location.hash = `#/table/${encodeURIComponent(tableId)}`;
  }

  table(tableId) {
    if (!this.tables.has(tableId)) this.tables.set(tableId, new TableState(tableId));
    return this.tables.get(tableId);
  }

  rememberSeat(tableId, seat) {
    if (seat === null) delete this.mySeats[tableId];
    else this.mySeats[tableId] = seat;
    stored.update({ seats: this.mySeats });
  }

  /** Listen to pushes while a page shows; returns the function that stops listening. */
  watch(listener) {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  flash(text) {
    clear(this.notice, text ? h('span', {}, text) : null);
    if (text) setTimeout(() => this.notice.textContent === text && clear(this.notice), 8000);
  }

  connectionChanged(state, detail) {
    this.statusLine.textContent = state === 'open' ? 'connected' : state;
    this.statusLine.dataset.state = state;
    if (state === 'closed' && detail?.code === 4002) this.flash('This session was opened in another tab.');
    if (state === 'closed' && detail?.lost) this.flash('Connection lost. Reload the page to reconnect.');
  }

  async logout() {
    try {
      await this.client.logout();
    } catch {
      // closing anyway
    }
    stored.forget();
    location.hash = '#/login';
    location.reload();
  }

  navigation() {
    const seated = Object.keys(this.mySeats);
    return h(
      'nav.top',
      {},
      h('a.brand', { href: '#/lobby' }, 'Tablium'),
      h('a', { href: '#/lobby', id: 'nav-lobby' }, 'Lobby'),
      h('a', { href: '#/tournaments', id: 'nav-tournaments' }, 'Tournaments'),
      seated.map((tableId) => h('a', { href: `#/table/${encodeURIComponent(tableId)}` }, `Table ${tableId}`)),
      h('a', { href: '#/wallet', id: 'nav-wallet' }, 'Wallet'),
      h('span.spacer'),
      h('span.player', { id: 'player-name' }, this.client.player ?? ''),
      this.statusLine,
      h('button.link', { id: 'logout', onclick: () => this.logout() }, 'Log out'),
    );
  }

  route() {
    this.dispose?.();
    this.dispose = null;
    const loggedIn = this.client.token !== null;
    const [, page = 'lobby', arg] = location.hash.split('/');
    const main = h('main', { id: 'page' });
    if (!loggedIn) {
      clear(this.root, this.notice, main);
      this.dispose = loginView(this, main);
      return;
    }
    clear(this.root, this.navigation(), this.notice, main);
    if (page === 'table' && arg) this.dispose = tableView(this, main, decodeURIComponent(arg));
    else if (page === 'wallet') this.dispose = walletView(this, main);
    else if (page === 'tournaments') this.dispose = tournamentLobbyView(this, main);
    else if (page === 'tournament' && arg) this.dispose = tournamentView(this, main, decodeURIComponent(arg));
    else this.dispose = lobbyView(this, main);
  }
}

const app = new PlayerApp(document.getElementById('app'));
window.tablium = app; // for people debugging in the console, and the browser tests
app.start();

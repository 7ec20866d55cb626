// The Tablium JavaScript SDK: one logical connection to a Tablium server, for Node.js and
// browsers. The wire protocol is docs/protocol.md (one msgpack map per binary websocket
// frame); its messages are typed in ../types/protocol.d.ts, generated from the server's code.
//
//   const client = new TabliumClient('ws://127.0.0.1:8765');
//   await client.connect();                        // opens the socket and says hello
//   await client.login('alice', 'correct horse');  // or register / authenticate(token)
//   client.on('hole_cards', (body) => ...);        // pushes, by their type
//   const seat = await client.quickSeat({ variant: 'NT', bigBlind: 2, buyIn: 200 });
//
// Requests get ids and a promise each; an error frame rejects it with ServerError (.code).
// Pushes arrive in `seq` order, each once. After a drop the client reconnects with backoff and
// resumes with its last seq, so the push stream continues without a gap or a duplicate (or
// says 'gap' when the server no longer has the missed events; the current state follows).
import { decode, encode } from '@msgpack/msgpack';

export const PROTOCOL_VERSIONS = Object.freeze([1]);
export const REQUEST_TIMEOUT_MS = 10_000;
export const CONNECT_TIMEOUT_MS = 10_000;
export const PENDING_REQUESTS_MAX = 1024; // overflow policy: the request rejects TooManyPending
export const RECONNECT_ATTEMPTS_MAX = 8; // then the client closes ('closed' with lost: true)
export const RECONNECT_BACKOFF_FIRST_MS = 50;
export const RECONNECT_BACKOFF_MAX_MS = 2_000;
export const RETRY_DELAY_DEFAULT_MS = 1_000; // a retryable error without retry_after_ms
export const RETRY_JITTER = 0.5;
export const RETRY_DELAY_MAX_MS = 30_000;
/** The websocket subprotocol of each encoding (docs/protocol.md, section 1). */
export const SUBPROTOCOLS = Object.freeze({ msgpack: 'tablium.msgpack.v1', json: 'tablium.json.v1' });
export const SERVER_FRAME_BYTES_MAX = 1024 * 1024; // as protocol/codec.py; larger: a violation
// Errors that say "not now": the request was not executed and may be sent again later.
export const RETRYABLE_ERROR_CODES = Object.freeze(new Set(['rate_limited', 'server_busy']));
// The server closed on purpose: reconnecting would not help or would fight another device.
export const FINAL_CLOSE_CODES = Object.freeze(new Set([4001, 4002, 4005]));
// A resume refused with these: the token is no good, log in with a password again.
const FINAL_LOGIN_CODES = new Set(['token_expired', 'token_invalid', 'account_banned']);
const REQUEST_ID_MAX = 2 ** 32 - 1;

export class TabliumError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server answered a request with an error frame. */
export class ServerError extends TabliumError {
  constructor(frame) {
    super(`${frame.code}: ${frame.message ?? ''}`);
    this.code = frame.code;
    this.serverMessage = frame.message ?? '';
    this.retryAfterMs = frame.retry_after_ms ?? null;
    this.frame = frame;
  }

  /** True when the server did not execute the request and asks for a later retry. */
  get retryable() {
    return RETRYABLE_ERROR_CODES.has(this.code);
  }
}

/** The connection dropped before the reply came (the request may or may not have run). */
export class ConnectionLost extends TabliumError {}
export class RequestTimeout extends TabliumError {}
export class TooManyPending extends TabliumError {}
/** The server sent a frame this client cannot read (a bug on one side). */
export class ProtocolViolation extends TabliumError {}

/** How long to wait before retry number `attempt` (0 first) of a request refused with a
 * retryable error: its retry_after_ms times a random factor in [1, 1 + 0.5 (attempt + 1)),
 * at most 30 s. Callers bound the number of attempts. */
export function retryDelayMs(error, attempt, random = Math.random) {
  const base = error.retryAfterMs ?? RETRY_DELAY_DEFAULT_MS;
  const spread = RETRY_JITTER * (1 + Math.max(0, attempt));
  return Math.min(RETRY_DELAY_MAX_MS, Math.max(0, base) * (1 + spread * random()));
}

function backoffMs(attempt, random) {
  const ceiling = Math.min(RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_FIRST_MS * 2 ** attempt);
  return ceiling / 2 + (ceiling / 2) * random(); // "equal jitter": never all at once
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// In Node.js a pending timeout keeps the process alive; a deadline alone should not.
const unref = (timer) => timer?.unref?.();

export class TabliumClient {
  /**
   * @param {string} url ws:// or wss:// address of the server's websocket port
   * @param {object} [options]
   * @param {typeof WebSocket} [options.WebSocket] a WebSocket class (Node.js 20: the `ws`
   *   package); default: globalThis.WebSocket
   * @param {string} [options.clientName] sent in hello
   * @param {number} [options.requestTimeoutMs]
   * @param {boolean} [options.reconnect] reconnect and resume after a drop (default true)
   * @param {number} [options.reconnectAttemptsMax]
   * @param {() => number} [options.random] for the backoff's jitter (tests seed it)
   * @param {'msgpack' | 'json'} [options.encoding] the subprotocol: 'msgpack' (binary frames,
   *   tablium.msgpack.v1, the default) or 'json' (text frames, tablium.json.v1)
   */
  constructor(url, options = {}) {
    if (!/^wss?:\/\/[^/]+/.test(url)) throw new TypeError(`expected ws://HOST:PORT, got ${url}`);
    this.url = url;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocket !== 'function') {
      throw new TypeError('no WebSocket class: pass options.WebSocket (Node.js 20: the ws package)');
    }
    this.clientName = options.clientName ?? 'tablium-js';
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.reconnect = options.reconnect ?? true;
    this.reconnectAttemptsMax = options.reconnectAttemptsMax ?? RECONNECT_ATTEMPTS_MAX;
    this.random = options.random ?? Math.random;
    this.encoding = options.encoding ?? 'msgpack';
    if (!(this.encoding in SUBPROTOCOLS)) throw new TypeError(`unknown encoding ${this.encoding}`);
    // Session facts, kept across reconnects.
    this.welcome = null;
    this.token = null;
    this.player = null;
    this.role = null;
    this.sessionId = null;
    this.lastSeq = 0; // the newest push seq delivered to listeners
    this.closeCode = null;
    this.reconnects = 0;
    this.state = 'idle'; // idle, connecting, open, reconnecting, closed
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject, timer}
    this._listeners = new Map(); // type -> Set(fn)
    this._socket = null;
    this._closing = false;
    this._reconnecting = null;
  }

  // --- events -------------------------------------------------------------------------

  /** Listen to pushes by body type ('hole_cards', ...), or: 'push' (every push body, with its
   * seq), 'error' (an id-less error frame), 'gap' (a resume lost events; state follows),
   * 'state' (connection state changes), 'token' (a fresh token after a login or resume).
   * Returns a function that removes the listener. */
  on(type, listener) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(listener);
    return () => this._listeners.get(type)?.delete(listener);
  }

  /** The next push of `type` for which `predicate` holds (rejects after timeoutMs). */
  waitFor(type, predicate = () => true, timeoutMs = this.requestTimeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new RequestTimeout(`no ${type} push within ${timeoutMs} ms`));
      }, timeoutMs);
      unref(timer);
      const off = this.on(type, (body) => {
        if (!predicate(body)) return;
        clearTimeout(timer);
        off();
        resolve(body);
      });
    });
  }

  _emit(type, ...args) {
    for (const listener of [...(this._listeners.get(type) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        // A listener's bug must not break the connection; report it where people look.
        console.error(`tablium: a '${type}' listener threw`, error);
      }
    }
  }

  _setState(state, detail = {}) {
    this.state = state;
    this._emit('state', state, detail);
  }

  // --- connection ---------------------------------------------------------------------

  /** Open the websocket and say hello. Resolves with the welcome reply. */
  async connect() {
    this._closing = false;
    this._setState('connecting');
    await this._open();
    this.welcome = await this.request({ type: 'hello', versions: [...PROTOCOL_VERSIONS], client: this.clientName });
    this._setState('open');
    return this.welcome;
  }

  _open() {
    return new Promise((resolve, reject) => {
      const socket = new this.WebSocket(this.url, [SUBPROTOCOLS[this.encoding]]);
      socket.binaryType = 'arraybuffer';
      const timer = setTimeout(() => {
        socket.close();
        reject(new ConnectionLost(`could not connect to ${this.url} within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      socket.onopen = () => {
        clearTimeout(timer);
        this._socket = socket;
        resolve();
      };
      socket.onerror = () => {}; // the close event that follows carries what we need
      socket.onclose = (event) => {
        clearTimeout(timer);
        if (this._socket !== socket) {
          reject(new ConnectionLost(`could not connect to ${this.url} (close ${event.code})`));
          return;
        }
        this._dropped(event.code, event.reason);
      };
      socket.onmessage = (event) => {
        if (this._socket === socket) this._receive(event.data);
      };
    });
  }

  _receive(data) {
    const json = this.encoding === 'json';
    if ((typeof data === 'string') !== json) {
      this._violation(`a ${typeof data === 'string' ? 'text' : 'binary'} frame on ${this.encoding}`);
      return;
    }
    const size = json ? data.length : (data.byteLength ?? data.length);
    if (size > SERVER_FRAME_BYTES_MAX) {
      this._violation(`a frame of ${size}${json ? '+' : ''} bytes`);
      return;
    }
    let frame;
    try {
      if (json) frame = JSON.parse(data);
      else {
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer ?? data);
        frame = decode(bytes, { useBigInt64: false });
      }
    } catch (error) {
      this._violation(`an unreadable frame: ${error.message}`);
      return;
    }
    if (frame === null || typeof frame !== 'object' || typeof frame.type !== 'string') {
      this._violation('a frame that is not a message map');
      return;
    }
    if (frame.type === 'event') {
      if (frame.seq <= this.lastSeq) return; // replayed twice by a resume: seen already
      this.lastSeq = frame.seq;
      this._emit('push', frame.body, frame.seq);
      this._emit(frame.body.type, frame.body, frame.seq);
      return;
    }
    if (frame.id === null || frame.id === undefined) {
      this._emit('error', new ServerError(frame));
      return;
    }
    const waiter = this._pending.get(frame.id);
    if (waiter === undefined) return; // a reply after its request timed out
    this._pending.delete(frame.id);
    clearTimeout(waiter.timer);
    if (frame.type === 'error') waiter.reject(new ServerError(frame));
    else waiter.resolve(frame);
  }

  _violation(what) {
    console.error(`tablium: protocol violation: ${what}`);
    this._socket?.close(1002, 'protocol violation');
  }

  _failPending(error) {
    for (const waiter of this._pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this._pending.clear();
  }

  _dropped(code, reason) {
    this._socket = null;
    this.closeCode = code;
    this._failPending(new ConnectionLost(`connection closed (${code} ${reason ?? ''})`));
    if (this._closing || !this.reconnect || this.token === null || FINAL_CLOSE_CODES.has(code)) {
      this._setState('closed', { code, reason });
      return;
    }
    this._reconnecting ??= this._reconnectLoop().finally(() => {
      this._reconnecting = null;
    });
  }

  async _reconnectLoop() {
    this._setState('reconnecting', { code: this.closeCode });
    for (let attempt = 0; attempt < this.reconnectAttemptsMax && !this._closing; attempt += 1) {
      await sleep(backoffMs(attempt, this.random));
      if (this._closing) break;
      try {
        await this._open();
        this.welcome = await this.request({ type: 'hello', versions: [...PROTOCOL_VERSIONS], client: this.clientName });
        await this.authenticate(this.token, this.lastSeq);
        this.reconnects += 1;
        this._setState('open', { resumed: true });
        return;
      } catch (error) {
        if (error instanceof ServerError && FINAL_LOGIN_CODES.has(error.code)) {
          this.token = null;
          break;
        }
        this._socket?.close();
        this._socket = null;
      }
    }
    this._setState('closed', { code: this.closeCode, lost: true });
  }

  /** Close for good (no reconnect). Pending requests reject with ConnectionLost. */
  close() {
    this._closing = true;
    const socket = this._socket;
    if (socket) socket.close(1000, 'client closed');
    else this._setState('closed', { code: 1000 });
  }

  // --- requests -----------------------------------------------------------------------

  /** Send any request (its id is assigned here); resolves with the reply, rejects with
   * ServerError on an error frame, RequestTimeout, TooManyPending or ConnectionLost. */
  request(message) {
    const socket = this._socket;
    if (socket === null || socket.readyState !== 1) {
      return Promise.reject(new ConnectionLost('not connected'));
    }
    if (this._pending.size >= PENDING_REQUESTS_MAX) {
      return Promise.reject(new TooManyPending(`${PENDING_REQUESTS_MAX} requests in flight`));
    }
    const id = this._nextId;
    this._nextId = id >= REQUEST_ID_MAX ? 1 : id + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new RequestTimeout(`no reply to ${message.type} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      unref(timer);
      this._pending.set(id, { resolve, reject, timer });
      const frame = { ...message, id };
      socket.send(this.encoding === 'json' ? JSON.stringify(frame) : encode(frame));
    });
  }

  _loggedIn(reply) {
    this.token = reply.token;
    this.player = reply.player;
    this.role = reply.role;
    this.sessionId = reply.session_id;
    if (reply.resume !== 'complete') {
      // Nothing to replay (new) or the replay is lost (gap): count on from the server's seq.
      this.lastSeq = Math.max(this.lastSeq, reply.last_seq);
      if (reply.resume === 'gap') this._emit('gap', reply);
    }
    this._emit('token', reply.token, reply);
    return reply;
  }

  async register(name, password) {
    return this._loggedIn(await this.request({ type: 'register', name, password }));
  }

  async login(name, password) {
    return this._loggedIn(await this.request({ type: 'login', name, password }));
  }

  async guestLogin() {
    return this._loggedIn(await this.request({ type: 'guest_login' }));
  }

  /** Log in with a token from an earlier login; with lastSeq, resume that session: the
   * pushes after lastSeq follow (or a 'gap'), then the current state of its tables. */
  async authenticate(token, lastSeq = 0) {
    if (lastSeq > this.lastSeq) this.lastSeq = lastSeq;
    return this._loggedIn(await this.request({ type: 'authenticate', token, last_seq: lastSeq }));
  }

  /** Round-trip time in milliseconds. */
  async ping() {
    const started = Date.now();
    await this.request({ type: 'ping' });
    return Date.now() - started;
  }

  /** End the session now: seats are released, the token stops working. */
  async logout() {
    this._closing = true;
    try {
      return await this.request({ type: 'logout' });
    } finally {
      this.token = null;
    }
  }

  // --- wallet -------------------------------------------------------------------------

  walletBalance() {
    return this.request({ type: 'wallet_balance' });
  }

  /** One page of transfers, newest first; pass the reply's next_before_id to page back. */
  walletHistory({ beforeId = null, limit = 50 } = {}) {
    return this.request({ type: 'wallet_history', before_id: beforeId, limit });
  }

  /** A page of the hands I was dealt into, newest first (`next_before_seq` pages back). */
  myHands({ beforeSeq = null, limit = 50 } = {}) {
    return this.request({ type: 'my_hands', before_seq: beforeSeq, limit });
  }

  /** One hand I was dealt into, as 'phh' or 'text' (ServerError unknown_hand otherwise). */
  myHand(handId, format = 'phh') {
    return this.request({ type: 'my_hand', hand_id: handId, format });
  }

  walletTransfer({ toPlayer, amount, key, memo = '' }) {
    return this.request({ type: 'wallet_transfer', to_player: toPlayer, amount, key, memo });
  }

  // --- lobby and tables ---------------------------------------------------------------

  /** @param {{variant?: string|null, bigBlind?: number|null}} [filter] */
  listTables(filter = {}) {
    return this.request({ type: 'list_tables', filter: lobbyFilter(filter) });
  }

  /** The table list now; then 'lobby_table_changed' / 'lobby_table_removed' pushes. */
  subscribeLobby(filter = {}) {
    return this.request({ type: 'subscribe_lobby', filter: lobbyFilter(filter) });
  }

  unsubscribeLobby() {
    return this.request({ type: 'unsubscribe_lobby' });
  }

  /** A seat at any table of this game and stakes. Resolves with `seated`. */
  quickSeat({ variant, bigBlind, buyIn }) {
    return this.request({ type: 'quick_seat', variant, big_blind: bigBlind, buy_in: buyIn });
  }

  joinTable({ tableId, buyIn, seat = null, postToEnter = false }) {
    return this.request({ type: 'join_table', table_id: tableId, buy_in: buyIn, seat, post_to_enter: postToEnter });
  }

  /** Stand up and cash out (after the running hand when in it). Resolves with left_table. */
  leaveTable(tableId) {
    return this.request({ type: 'leave_table', table_id: tableId });
  }

  watch(tableId) {
    return this.request({ type: 'watch', table_id: tableId });
  }

  unwatch(tableId) {
    return this.request({ type: 'unwatch', table_id: tableId });
  }

  topUp(tableId, amount) {
    return this.request({ type: 'top_up', table_id: tableId, amount });
  }

  sitOut(tableId) {
    return this.request({ type: 'sit_out', table_id: tableId });
  }

  postMissedBlinds(tableId) {
    return this.request({ type: 'post_missed_blinds', table_id: tableId });
  }

  waitForBigBlind(tableId) {
    return this.request({ type: 'wait_for_big_blind', table_id: tableId });
  }

  joinWaitList(tableId) {
    return this.request({ type: 'join_wait_list', table_id: tableId });
  }

  leaveWaitList(tableId) {
    return this.request({ type: 'leave_wait_list', table_id: tableId });
  }

  /**
   * Contribute entropy to the deals at a table (docs/fairness.md): `seed` as lowercase hex
   * of 1..64 bytes, or 16 random bytes. It deals the hands started after the reply; send a
   * fresh one after each deal_commitment. Resolves to the hex sent, for the check of the
   * reveal in hand_ended (verifyObserved's ownClientSeed).
   */
  async setClientSeed(tableId, seed = null) {
    const hex =
      seed ??
      Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) =>
        b.toString(16).padStart(2, '0'),
      ).join('');
    await this.request({ type: 'set_client_seed', table_id: tableId, seed: hex });
    return hex;
  }

  /**
   * Answer an action_required prompt. `action`: fold, check_or_call, bet_or_raise_to (with
   * `amount`, the street total), show, muck, run_it_twice (with `agree`). The act names the
   * prompt's table and hand, and carries its decision id when the prompt has one, so a late
   * answer to an old prompt cannot act on a newer one.
   */
  act(prompt, action, { amount = 0, agree = false } = {}) {
    const message = {
      type: 'act',
      table_id: prompt.table_id,
      hand_number: prompt.hand_number,
      action,
      amount,
      agree,
    };
    if (prompt.decision_id !== undefined) message.decision_id = prompt.decision_id;
    return this.request(message);
  }
}

function lobbyFilter({ variant = null, bigBlind = null } = {}) {
  return { variant, big_blind: bigBlind };
}

/** Connect and say hello in one call. */
export async function connect(url, options) {
  const client = new TabliumClient(url, options);
  await client.connect();
  return client;
}

export { TableState } from './table-state.mjs';

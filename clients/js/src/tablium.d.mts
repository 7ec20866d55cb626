// Declarations of the SDK (src/tablium.mjs). The message types come from types/protocol.d.ts,
// which is generated from the server's definitions.
import type * as P from '../types/protocol.js';

export type * as Protocol from '../types/protocol.js';
export { TableState } from './table-state.mjs';

export declare const PROTOCOL_VERSIONS: readonly number[];
export declare const REQUEST_TIMEOUT_MS: number;
export declare const CONNECT_TIMEOUT_MS: number;
export declare const PENDING_REQUESTS_MAX: number;
export declare const RECONNECT_ATTEMPTS_MAX: number;
export declare const RECONNECT_BACKOFF_FIRST_MS: number;
export declare const RECONNECT_BACKOFF_MAX_MS: number;
export declare const RETRY_DELAY_DEFAULT_MS: number;
export declare const RETRY_JITTER: number;
export declare const RETRY_DELAY_MAX_MS: number;
export declare const SERVER_FRAME_BYTES_MAX: number;
/** The websocket subprotocol of each encoding. */
export declare const SUBPROTOCOLS: { readonly msgpack: 'tablium.msgpack.v1'; readonly json: 'tablium.json.v1' };
export declare const RETRYABLE_ERROR_CODES: ReadonlySet<string>;
export declare const FINAL_CLOSE_CODES: ReadonlySet<number>;

export declare class TabliumError extends Error {}
/** The server answered a request with an error frame. */
export declare class ServerError extends TabliumError {
  constructor(frame: P.Error);
  readonly code: string;
  readonly serverMessage: string;
  readonly retryAfterMs: number | null;
  readonly frame: P.Error;
  /** True for rate_limited and server_busy: not executed, send it again later. */
  readonly retryable: boolean;
}
export declare class ConnectionLost extends TabliumError {}
export declare class RequestTimeout extends TabliumError {}
export declare class TooManyPending extends TabliumError {}
export declare class ProtocolViolation extends TabliumError {}

export declare function retryDelayMs(error: ServerError, attempt: number, random?: () => number): number;

/** A push body by its `type` tag. */
export type PushOf<T extends P.PushBody['type']> = Extract<P.PushBody, { type: T }>;
/** A request without its id (the client assigns ids). */
export type Outgoing = P.Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ClientOptions {
  /** A WebSocket class; default globalThis.WebSocket (Node.js 20: pass the `ws` package's). */
  WebSocket?: unknown;
  clientName?: string;
  requestTimeoutMs?: number;
  /** Reconnect and resume after a drop (default true). */
  reconnect?: boolean;
  reconnectAttemptsMax?: number;
  /** Jitter source for the reconnect backoff. */
  random?: () => number;
  /** 'msgpack' (binary frames, the default) or 'json' (text frames, tablium.json.v1). */
  encoding?: 'msgpack' | 'json';
}

export interface LobbyFilterOptions {
  variant?: P.LobbyFilter['variant'];
  bigBlind?: number | null;
}

export declare class TabliumClient {
  constructor(url: string, options?: ClientOptions);
  readonly url: string;
  welcome: P.Welcome | null;
  token: string | null;
  player: string | null;
  role: P.LoggedIn['role'] | null;
  sessionId: string | null;
  /** The newest push seq delivered to listeners. */
  lastSeq: number;
  closeCode: number | null;
  reconnects: number;
  state: ConnectionState;

  on<T extends P.PushBody['type']>(type: T, listener: (body: PushOf<T>, seq: number) => void): () => void;
  on(type: 'push', listener: (body: P.PushBody, seq: number) => void): () => void;
  on(type: 'error', listener: (error: ServerError) => void): () => void;
  on(type: 'gap', listener: (reply: P.LoggedIn) => void): () => void;
  on(type: 'token', listener: (token: string, reply: P.LoggedIn) => void): () => void;
  on(type: 'state', listener: (state: ConnectionState, detail: { code?: number; reason?: string; lost?: boolean; resumed?: boolean }) => void): () => void;
  waitFor<T extends P.PushBody['type']>(type: T, predicate?: (body: PushOf<T>) => boolean, timeoutMs?: number): Promise<PushOf<T>>;

  connect(): Promise<P.Welcome>;
  close(): void;
  request(message: Outgoing): Promise<P.Reply>;

  register(name: string, password: string): Promise<P.LoggedIn>;
  login(name: string, password: string): Promise<P.LoggedIn>;
  guestLogin(): Promise<P.LoggedIn>;
  authenticate(token: string, lastSeq?: number): Promise<P.LoggedIn>;
  ping(): Promise<number>;
  logout(): Promise<P.Ok>;

  walletBalance(): Promise<P.Balance>;
  walletHistory(options?: { beforeId?: number | null; limit?: number }): Promise<P.HistoryPage>;
  myHands(options?: { beforeSeq?: number | null; limit?: number }): Promise<P.HandsPage>;
  myHand(handId: string, format?: 'phh' | 'text'): Promise<P.HandHistory>;
  walletTransfer(options: { toPlayer: string; amount: number; key: string; memo?: string }): Promise<P.TransferResult>;

  listTables(filter?: LobbyFilterOptions): Promise<P.TableList>;
  subscribeLobby(filter?: LobbyFilterOptions): Promise<P.TableList>;
  unsubscribeLobby(): Promise<P.Ok>;
  quickSeat(options: { variant: P.QuickSeat['variant']; bigBlind: number; buyIn: number }): Promise<P.Seated>;
  joinTable(options: { tableId: string; buyIn: number; seat?: number | null; postToEnter?: boolean }): Promise<P.Seated>;
  leaveTable(tableId: string): Promise<P.LeftTable>;
  watch(tableId: string): Promise<P.Ok>;
  unwatch(tableId: string): Promise<P.Ok>;
  topUp(tableId: string, amount: number): Promise<P.Ok>;
  sitOut(tableId: string): Promise<P.Ok>;
  postMissedBlinds(tableId: string): Promise<P.Ok>;
  waitForBigBlind(tableId: string): Promise<P.Ok>;
  joinWaitList(tableId: string): Promise<P.Ok>;
  leaveWaitList(tableId: string): Promise<P.Ok>;
  /** Answer an action_required prompt (its table, hand and decision id are copied). */
  setClientSeed(tableId: string, seed?: string | null): Promise<string>;
  act(prompt: P.ActionRequired, action: P.Act['action'], options?: { amount?: number; agree?: boolean }): Promise<P.Ok>;
}

export declare function connect(url: string, options?: ClientOptions): Promise<TabliumClient>;

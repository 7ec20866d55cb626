import type * as P from '../types/protocol.js';

export declare const SEATS_MAX: number;
export declare const LOG_LINES_MAX: number;

/** One table folded from its pushes (no I/O). */
export declare class TableState {
  constructor(tableId: string);
  readonly tableId: string;
  listing: P.TableListing | null;
  status: P.TableStatusChanged['status'];
  seats: (P.SeatView | null)[];
  button: number | null;
  handNumber: number;
  handRunning: boolean;
  board: string[];
  secondBoard: string[];
  pots: P.PotView[];
  bets: Map<number, number>;
  holeCards: string[];
  toAct: number | null;
  prompt: P.ActionRequired | null;
  promptAtMs: number;
  timeBank: { seat: number; ms: number; atMs: number } | null;
  lastAction: Map<number, string>;
  shown: Map<number, string[]>;
  awards: P.PotAwarded[];
  handsEnded: number;
  log: string[];
  apply(body: P.PushBody, nowMs?: number): boolean;
  occupied(): P.SeatView[];
  seatOf(playerId: number): number | null;
  clockMs(nowMs?: number): number | null;
  potTotal(): number;
}

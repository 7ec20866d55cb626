import type * as P from '../types/protocol.js';

export declare const SEATS_MAX: number;
export declare const LOG_LINES_MAX: number;

/** A hand's deal as one client saw it (fairness.mjs's verifyObserved takes it). */
export interface ObservedDeal {
  handId: string;
  commitment: string | null;
  /** the commitment announced before hand_started (must equal `commitment`) */
  announced: string | null;
  dealingOrder: number[];
  holeCardsEach: number;
  holeCards: Record<number, string[]>;
  boards: [0 | 1, string[]][];
  ownSeat: number | null;
}

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
  /** The next hand's commitment (deal_commitment; handNumber null from a table_snapshot). */
  nextCommitment: { handNumber: number | null; commitment: string } | null;
  /** What this client saw of the running hand's deal. */
  deal: ObservedDeal | null;
  /** The last ended hand's: verifyObserved({...table.lastDeal, ownClientSeed}). */
  lastDeal: (ObservedDeal & { serverSeed: string; clientSeeds: Record<number, string> }) | null;
  apply(body: P.PushBody, nowMs?: number): boolean;
  occupied(): P.SeatView[];
  seatOf(playerId: number): number | null;
  clockMs(nowMs?: number): number | null;
  potTotal(): number;
}

// Declarations of the SDK's fairness check (src/fairness.mjs): docs/fairness.md's scheme.

export declare const SCHEME: 'tablium-fair-v1';
export declare const SERVER_SEED_BYTES: number;
export declare const CLIENT_SEED_BYTES_MAX: number;
export declare const CLIENT_SEED_BYTES_DEFAULT: number;
export declare const HAND_ID_BYTES_MAX: number;
export declare const SEATS_MAX: number;
export declare const DECK_SIZE: number;
export declare const BURN_CARDS: number;
/** Card codes by index (rank * 4 + suit): CARDS[0] is "2c", CARDS[51] is "As". */
export declare const CARDS: readonly string[];

/** Bytes, or the same bytes as lowercase hex (what the wire carries). */
export type Bytes = Uint8Array | string;
/** Client seeds by table seat (0..9). */
export type ClientSeeds = Map<number, Bytes> | Record<number | string, Bytes>;

export type FairnessCode =
  | 'commitment_mismatch'
  | 'deal_mismatch'
  | 'client_seed_substituted'
  | 'fairness_input_invalid';

export declare class FairnessError extends Error {
  constructor(code: FairnessCode, message: string);
  readonly code: FairnessCode;
  /** deal_mismatch: the deck position (0 = top) of the first card that differs. */
  position?: number;
}

export declare function toHex(bytes: Uint8Array): string;
export declare function fromHex(text: string): Uint8Array;
/** SHA-256("tablium-fair-v1 commit" || 0x00 || server seed), as 64 hex digits. */
export declare function commitment(serverSeed: Bytes): Promise<string>;
/** The message M every stream block authenticates. */
export declare function dealMessage(handId: string, clientSeeds: ClientSeeds): Uint8Array;
/** The deck's card indices, top first. */
export declare function deckOrder(serverSeed: Bytes, handId: string, clientSeeds: ClientSeeds): Promise<number[]>;
/** The deck as card codes, top first. */
export declare function fairDeck(serverSeed: Bytes, handId: string, clientSeeds: ClientSeeds): Promise<string[]>;
/** Deck positions of what a client saw (null: not seen): hole cards by dealing position, boards as [run, cards]. */
export declare function dealtInOrder(
  holeCards: (string | null)[][],
  boards?: [0 | 1, string[]][],
): (number | null)[];
export declare function verify(hand: {
  commitment: string;
  serverSeed: Bytes;
  handId: string;
  clientSeeds: ClientSeeds;
  dealt: (string | number | null)[];
}): Promise<void>;
/** A client's check of one hand from what it saw on the wire; throws FairnessError. */
export declare function verifyObserved(hand: {
  commitment: string;
  serverSeed: Bytes;
  handId: string;
  clientSeeds: ClientSeeds;
  /** hand_started.seats */
  dealingOrder: number[];
  holeCardsEach: number;
  /** seat -> cards seen: our hole_cards, every showdown */
  holeCards: Map<number, string[]> | Record<number | string, string[]>;
  /** each board_dealt as [run, cards], in order */
  boards: [0 | 1, string[]][];
  ownSeat?: number | null;
  ownClientSeed?: Bytes | null;
}): Promise<void>;

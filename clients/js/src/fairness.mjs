// Provably fair deals, checked on the client: the scheme of docs/fairness.md
// ("tablium-fair-v1"), written from that page. Pure: WebCrypto only (Node.js >= 20 and every
// browser), no I/O. The server's reference implementation is poker/fairness.py; the tests
// (tests/clients/test_js_fairness.py) cross-check the two on vectors Python generates.

export const SCHEME = 'tablium-fair-v1';
export const SERVER_SEED_BYTES = 32;
export const CLIENT_SEED_BYTES_MAX = 64;
export const CLIENT_SEED_BYTES_DEFAULT = 16;
export const HAND_ID_BYTES_MAX = 512;
export const SEATS_MAX = 10;
export const DECK_SIZE = 52;
export const BURN_CARDS = 1;
const STREAM_BLOCKS_MAX = 1024; // a deck reads 2 blocks, a third about once in 2 million

const encoder = new TextEncoder();
const COMMITMENT_PREFIX = encoder.encode('tablium-fair-v1 commit\0');
const DEAL_PREFIX = encoder.encode('tablium-fair-v1 deal\0');
const RANKS = '23456789TJQKA';
const SUITS = 'cdhs';
/** Card codes by index: index = rank * 4 + suit; 0 is 2c, 51 is As. */
export const CARDS = Object.freeze(
  Array.from({ length: DECK_SIZE }, (_, i) => RANKS[i >> 2] + SUITS[i & 3]),
);

/** Base of the verification errors; `code` as docs/fairness.md's table. */
export class FairnessError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'FairnessError';
    this.code = code;
  }
}

function invalid(message) {
  return new FairnessError('fairness_input_invalid', message);
}

function subtle() {
  const found = globalThis.crypto?.subtle;
  if (!found) throw new Error('WebCrypto (crypto.subtle) is not available');
  return found;
}

/** Lowercase hex <-> bytes. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(text) {
  if (typeof text !== 'string' || !/^([0-9a-f]{2})*$/.test(text)) {
    throw invalid('hex is an even number of lowercase hex digits');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function asBytes(value, what) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return fromHex(value);
  throw invalid(`${what}: bytes (Uint8Array) or hex`);
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function serverSeedBytes(serverSeed) {
  const seed = asBytes(serverSeed, 'server seed');
  if (seed.length !== SERVER_SEED_BYTES) {
    throw invalid(`a server seed is exactly ${SERVER_SEED_BYTES} bytes`);
  }
  return seed;
}

/** SHA-256("tablium-fair-v1 commit" || 0x00 || server seed), as 64 hex digits. */
export async function commitment(serverSeed) {
  const seed = serverSeedBytes(serverSeed);
  const digest = await subtle().digest('SHA-256', concat([COMMITMENT_PREFIX, seed]));
  return toHex(new Uint8Array(digest));
}

/** Client seeds as sorted [seat, bytes] pairs; accepts a Map or an object keyed by seat. */
function sortedClientSeeds(clientSeeds) {
  const entries = clientSeeds instanceof Map ? [...clientSeeds] : Object.entries(clientSeeds ?? {});
  if (entries.length > SEATS_MAX) throw invalid(`at most ${SEATS_MAX} client seeds`);
  const pairs = entries.map(([seat, seed]) => {
    const number = typeof seat === 'number' ? seat : Number(seat);
    if (!Number.isInteger(number) || number < 0 || number >= SEATS_MAX || `${number}` !== `${seat}`) {
      throw invalid(`a client seed's seat is 0..${SEATS_MAX - 1}: ${seat}`);
    }
    const bytes = asBytes(seed, `seat ${number}`);
    if (bytes.length < 1 || bytes.length > CLIENT_SEED_BYTES_MAX) {
      throw invalid(`seat ${number}: a client seed is 1..${CLIENT_SEED_BYTES_MAX} bytes`);
    }
    return [number, bytes];
  });
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** The message M of docs/fairness.md step 5. */
export function dealMessage(handId, clientSeeds) {
  if (typeof handId !== 'string') throw invalid('a hand id is text');
  const hand = encoder.encode(handId);
  if (hand.length < 1 || hand.length > HAND_ID_BYTES_MAX) {
    throw invalid(`a hand id is 1..${HAND_ID_BYTES_MAX} bytes of UTF-8`);
  }
  const pairs = sortedClientSeeds(clientSeeds);
  const parts = [DEAL_PREFIX, new Uint8Array([hand.length >> 8, hand.length & 0xff]), hand];
  parts.push(new Uint8Array([pairs.length]));
  for (const [seat, seed] of pairs) {
    parts.push(new Uint8Array([seat, seed.length]), seed);
  }
  return concat(parts);
}

/** The deck's card indices, top first (position 0 is dealt first). */
export async function deckOrder(serverSeed, handId, clientSeeds) {
  const seed = serverSeedBytes(serverSeed);
  const message = dealMessage(handId, clientSeeds);
  const key = await subtle().importKey('raw', seed, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  let block = new Uint8Array(0);
  let at = 0;
  let counter = 0;
  const nextByte = async () => {
    if (at === block.length) {
      if (counter >= STREAM_BLOCKS_MAX) throw new Error('stream exhausted');
      const suffix = new Uint8Array(4);
      new DataView(suffix.buffer).setUint32(0, counter);
      block = new Uint8Array(await subtle().sign('HMAC', key, concat([message, suffix])));
      at = 0;
      counter += 1;
    }
    const byte = block[at];
    at += 1;
    return byte;
  };
  const order = Array.from({ length: DECK_SIZE }, (_, i) => i);
  for (let i = DECK_SIZE - 1; i >= 1; i -= 1) {
    const n = i + 1;
    const limit = 256 - (256 % n); // bytes at or above it are skipped: no value favoured
    let b = await nextByte();
    while (b >= limit) b = await nextByte();
    const j = b % n;
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The deck as card codes ("8h", ...), top first. */
export async function fairDeck(serverSeed, handId, clientSeeds) {
  return (await deckOrder(serverSeed, handId, clientSeeds)).map((i) => CARDS[i]);
}

function cardIndex(code) {
  const index = typeof code === 'string' && code.length === 2 ? CARDS.indexOf(code) : -1;
  if (index < 0) throw invalid(`not a card: ${code}`);
  return index;
}

/**
 * The engine's deal as deck positions: entry k is the k-th card drawn, null where the client
 * did not see it. `holeCards`: one array per player in dealing order (null for a card not
 * seen); `boards`: [run, cards] per board deal in order (run 0 burns one card first).
 */
export function dealtInOrder(holeCards, boards = []) {
  const players = holeCards.length;
  if (players < 2 || players > SEATS_MAX) throw invalid(`a deal has 2..${SEATS_MAX} players`);
  const per = holeCards[0].length;
  if (per === 0 || holeCards.some((cards) => cards.length !== per)) {
    throw invalid('every player is dealt the same number of hole cards');
  }
  const dealt = new Array(players * per).fill(null);
  holeCards.forEach((cards, position) => {
    cards.forEach((card, k) => {
      if (card !== null && card !== undefined) dealt[k * players + position] = cardIndex(card);
    });
  });
  for (const [run, cards] of boards) {
    if (run !== 0 && run !== 1) throw invalid(`a board's run is 0 or 1, got ${run}`);
    if (run === 0) for (let b = 0; b < BURN_CARDS; b += 1) dealt.push(null);
    for (const card of cards) dealt.push(cardIndex(card));
  }
  if (dealt.length > DECK_SIZE) throw invalid(`${dealt.length} cards dealt from a 52-card deck`);
  return dealt;
}

/**
 * Check one hand: the seed against the commitment, then every card seen against the deck the
 * seeds give. `dealt`: card codes in deck order (null: not seen). Throws FairnessError
 * (`commitment_mismatch`, `deal_mismatch`, `fairness_input_invalid`).
 */
export async function verify({ commitment: committed, serverSeed, handId, clientSeeds, dealt }) {
  if (typeof committed !== 'string' || !/^[0-9a-f]{64}$/.test(committed)) {
    throw invalid('a commitment is 64 lowercase hex digits');
  }
  if ((await commitment(serverSeed)) !== committed) {
    throw new FairnessError(
      'commitment_mismatch',
      'the revealed server seed does not hash to the commitment',
    );
  }
  if (dealt.length > DECK_SIZE) throw invalid(`${dealt.length} cards dealt from a 52-card deck`);
  const order = await deckOrder(serverSeed, handId, clientSeeds);
  dealt.forEach((card, position) => {
    if (card === null || card === undefined) return;
    const found = typeof card === 'number' ? card : cardIndex(card);
    if (found !== order[position]) {
      const error = new FairnessError(
        'deal_mismatch',
        `card ${position} of the deck is ${CARDS[order[position]]} by the seeds, ${CARDS[found]} was dealt`,
      );
      error.position = position;
      throw error;
    }
  });
}

/**
 * A client's check of one hand from what it saw on the wire (as poker.fairness.verify_observed):
 * `dealingOrder` = hand_started.seats; `holeCards`: seat -> cards seen (its own hole_cards,
 * every showdown), a Map or an object; `boards`: each board_dealt as [run, cards], in order.
 * With `ownSeat` and `ownClientSeed`, also that the revealed seed for our seat is the one we
 * sent (`client_seed_substituted`).
 */
export async function verifyObserved({
  commitment: committed,
  serverSeed,
  handId,
  clientSeeds,
  dealingOrder,
  holeCardsEach,
  holeCards,
  boards,
  ownSeat = null,
  ownClientSeed = null,
}) {
  if (ownSeat !== null && ownClientSeed !== null) {
    const revealed = sortedClientSeeds(clientSeeds).find(([seat]) => seat === ownSeat);
    if (!revealed || toHex(revealed[1]) !== toHex(asBytes(ownClientSeed, 'own client seed'))) {
      throw new FairnessError(
        'client_seed_substituted',
        `seat ${ownSeat}: the revealed client seed is not ours`,
      );
    }
  }
  if (!Number.isInteger(holeCardsEach) || holeCardsEach < 1 || holeCardsEach > 4) {
    throw invalid(`1..4 hole cards each, got ${holeCardsEach}`);
  }
  if (new Set(dealingOrder).size !== dealingOrder.length) {
    throw invalid('a seat twice in the dealing order');
  }
  const seen = holeCards instanceof Map ? holeCards : new Map(
    Object.entries(holeCards ?? {}).map(([seat, cards]) => [Number(seat), cards]),
  );
  for (const seat of seen.keys()) {
    if (!dealingOrder.includes(seat)) throw invalid(`hole cards for seat ${seat}, not dealt in`);
  }
  const holes = dealingOrder.map((seat) => {
    const cards = seen.get(seat) ?? [];
    if (cards.length !== 0 && cards.length !== holeCardsEach) {
      throw invalid(`seat ${seat}: ${cards.length} hole cards seen`);
    }
    return cards.length ? [...cards] : new Array(holeCardsEach).fill(null);
  });
  await verify({
    commitment: committed,
    serverSeed,
    handId,
    clientSeeds,
    dealt: dealtInOrder(holes, boards).map((i) => (i === null ? null : CARDS[i])),
  });
}

// One table as a client sees it, folded from the table's pushes (docs/game-protocol.md).
// No I/O: feed it every push body of its table with apply(); read the fields. The browser
// client draws from it; bots decide from it.
//
//   const table = new TableState('nt-1-2-a');
//   client.on('push', (body) => table.apply(body));
//   table.seats[3]?.stack; table.board; table.holeCards; table.prompt?.legal

export const SEATS_MAX = 10;
export const LOG_LINES_MAX = 50; // overflow policy: the oldest line is dropped
const HOLE_CARDS = { NT: 2, FT: 2, PT: 2, PO: 4, 'PO/8': 4 };

export class TableState {
  constructor(tableId) {
    this.tableId = tableId;
    this.listing = null;
    this.status = 'open'; // open, paused, closing, closed
    this.seats = new Array(SEATS_MAX).fill(null); // seat view or null (empty)
    this.button = null;
    this.handNumber = 0; // the newest hand seen; see handRunning
    this.handRunning = false;
    this.board = [];
    this.secondBoard = []; // run it twice
    this.pots = [];
    this.bets = new Map(); // seat -> chips put in on this street
    this.holeCards = []; // the receiver's own cards in the running hand
    this.toAct = null; // seat
    this.prompt = null; // the newest action_required, until that seat acts
    this.promptAtMs = 0; // when it arrived (local clock)
    this.timeBank = null; // {seat, ms, atMs} once the action time ran out
    this.lastAction = new Map(); // seat -> text of its last action this hand
    this.shown = new Map(); // seat -> cards shown at showdown ([] when mucked)
    this.awards = []; // pot_awarded bodies of the last hand
    this.handsEnded = 0;
    this.log = [];
    // Provably fair deals (docs/fairness.md). nextCommitment: {handNumber (null when a
    // table_snapshot gave it), commitment} of the next hand; deal: what this client saw of
    // the running hand's deal; lastDeal: the last ended hand's, ready for fairness.mjs's
    // verifyObserved({...table.lastDeal, ownClientSeed}) (with `announced`: the commitment
    // announced before hand_started, which must equal `commitment`).
    this.nextCommitment = null;
    this.deal = null;
    this.lastDeal = null;
  }

  /** Fold one push body in; bodies of other tables are ignored. Returns true when used. */
  apply(body, nowMs = Date.now()) {
    if (body.table_id !== undefined && body.table_id !== this.tableId) return false;
    const handler = HANDLERS[body.type];
    if (handler === undefined) return false;
    if (body.hand_number !== undefined && body.type !== 'table_snapshot') {
      if (body.hand_number < this.handNumber) return false; // a late push of an older hand
    }
    handler(this, body, nowMs);
    return true;
  }

  /** Seats of players, in seat order. */
  occupied() {
    return this.seats.filter((view) => view !== null);
  }

  seatOf(playerId) {
    return this.seats.find((view) => view !== null && view.player_id === playerId)?.seat ?? null;
  }

  /** Milliseconds left to act for the seat to act (action time, then time bank). */
  clockMs(nowMs = Date.now()) {
    if (this.prompt === null) return null;
    if (this.timeBank !== null) return Math.max(0, this.timeBank.ms - (nowMs - this.timeBank.atMs));
    return Math.max(0, this.prompt.act_within_ms - (nowMs - this.promptAtMs));
  }

  potTotal() {
    let total = 0;
    for (const pot of this.pots) total += pot.amount;
    for (const chips of this.bets.values()) total += chips;
    return total;
  }

  _say(line) {
    this.log.push(line);
    if (this.log.length > LOG_LINES_MAX) this.log.shift();
  }

  _seat(seat) {
    return this.seats[seat];
  }

  _setStacks(seats, stacks) {
    seats.forEach((seat, index) => {
      const view = this.seats[seat];
      if (view !== null) this.seats[seat] = { ...view, stack: stacks[index] };
    });
  }

  _endHand() {
    this.handRunning = false;
    this.toAct = null;
    this.prompt = null;
    this.timeBank = null;
    this.bets = new Map();
    this.seats = this.seats.map((view) => (view === null ? null : { ...view, in_hand: false }));
  }
}

const HANDLERS = {
  table_snapshot(table, body) {
    table.listing = body.listing;
    table.seats = new Array(SEATS_MAX).fill(null);
    for (const view of body.seats) table.seats[view.seat] = view;
    table.button = body.button;
    table.handNumber = body.hand_number;
    table.handRunning = body.hand_number > 0;
    table.board = [...body.board];
    table.secondBoard = [];
    table.pots = [...body.pots];
    table.bets = new Map(body.bets.map(([seat, chips]) => [seat, chips]));
    table.holeCards = [...body.hole_cards];
    table.toAct = body.to_act ?? null;
    table.prompt = null; // an action_required follows when it is the receiver's turn
    table.timeBank = null;
    table.lastAction = new Map();
    table.shown = new Map();
    if (body.next_commitment) table.nextCommitment = { handNumber: null, commitment: body.next_commitment };
    table._say(`table ${body.table_id}: ${body.seats.length} seated`);
  },
  deal_commitment(table, body) {
    table.nextCommitment = { handNumber: body.hand_number, commitment: body.commitment };
  },
  seat_changed(table, body) {
    table.seats[body.seat] = body.view;
    if (body.view === null) table._say(`seat ${body.seat + 1} is free`);
  },
  hand_started(table, body) {
    table.handNumber = body.hand_number;
    table.handRunning = true;
    table.button = body.button;
    table.board = [];
    table.secondBoard = [];
    table.pots = [];
    table.bets = new Map();
    table.holeCards = [];
    table.lastAction = new Map();
    table.shown = new Map();
    table.awards = [];
    table.toAct = null;
    table.prompt = null;
    table.timeBank = null;
    table._setStacks(body.seats, body.stacks);
    for (const seat of body.seats) {
      const view = table._seat(seat);
      if (view !== null) table.seats[seat] = { ...view, in_hand: true };
    }
    const next = table.nextCommitment;
    const announced =
      next !== null && (next.handNumber === null || next.handNumber === body.hand_number)
        ? next.commitment
        : null;
    table.nextCommitment = null;
    table.deal = {
      handId: `${table.tableId}:${body.hand_number}`,
      commitment: body.commitment ?? null,
      announced,
      dealingOrder: [...body.seats],
      holeCardsEach: HOLE_CARDS[table.listing?.variant] ?? 2,
      holeCards: {},
      boards: [],
      ownSeat: null,
    };
    table._say(`hand #${body.hand_number} starts`);
  },
  blind_posted(table, body) {
    const view = table._seat(body.seat);
    if (view !== null) table.seats[body.seat] = { ...view, stack: view.stack - body.amount };
    // Antes go straight to the pot (a pots_changed push follows); blinds are street bets.
    if (body.kind !== 'ante') table.bets.set(body.seat, (table.bets.get(body.seat) ?? 0) + body.amount);
    table.lastAction.set(body.seat, `${body.kind} ${body.amount}`);
  },
  hole_cards(table, body) {
    table.holeCards = [...body.cards];
    if (table.deal !== null) {
      table.deal.holeCards[body.seat] = [...body.cards];
      table.deal.holeCardsEach = body.cards.length;
      table.deal.ownSeat = body.seat;
    }
  },
  action_required(table, body, nowMs) {
    table.toAct = body.seat;
    table.prompt = body;
    table.promptAtMs = nowMs;
    table.timeBank = null;
  },
  time_bank_started(table, body, nowMs) {
    table.timeBank = { seat: body.seat, ms: body.time_bank_ms, atMs: nowMs };
  },
  action_taken(table, body) {
    const view = table._seat(body.seat);
    if (view !== null) {
      table.seats[body.seat] = {
        ...view,
        stack: view.stack - body.amount,
        in_hand: body.action === 'fold' ? false : view.in_hand,
      };
    }
    if (body.action !== 'fold' && body.action !== 'check') table.bets.set(body.seat, body.bet_to);
    const amount = body.action === 'fold' || body.action === 'check' ? '' : ` ${body.bet_to}`;
    const text = `${body.action}${amount}${body.all_in ? ' all-in' : ''}${body.timed_out ? ' (time)' : ''}`;
    table.lastAction.set(body.seat, text);
    table._say(`seat ${body.seat + 1}: ${text}`);
    if (table.toAct === body.seat) {
      table.toAct = null;
      table.prompt = null;
      table.timeBank = null;
    }
  },
  uncalled_bet_returned(table, body) {
    const view = table._seat(body.seat);
    if (view !== null) table.seats[body.seat] = { ...view, stack: view.stack + body.amount };
    table.bets.set(body.seat, Math.max(0, (table.bets.get(body.seat) ?? 0) - body.amount));
  },
  board_dealt(table, body) {
    if (body.run === 1) table.secondBoard.push(...body.cards);
    else table.board.push(...body.cards);
    table.deal?.boards.push([body.run ?? 0, [...body.cards]]);
    table.bets = new Map(); // the street's bets went into the pots
    table.lastAction = new Map();
    table._say(`${body.street}: ${body.cards.join(' ')}`);
  },
  pots_changed(table, body) {
    table.pots = [...body.pots];
  },
  run_it_twice_offered(table) {
    table._say('run it twice?');
  },
  run_it_twice_decided(table, body) {
    table._say(`running it ${body.runs === 2 ? 'twice' : 'once'}`);
  },
  showdown(table, body) {
    table.shown.set(body.seat, body.mucked ? [] : [...body.cards]);
    if (!body.mucked && table.deal !== null) table.deal.holeCards[body.seat] = [...body.cards];
    table._say(`seat ${body.seat + 1} ${body.mucked ? 'mucks' : `shows ${body.cards.join(' ')}`}`);
  },
  pot_awarded(table, body) {
    table.awards.push(body);
    table._say(`seat ${body.seat + 1} wins ${body.amount}${body.hand ? ` with ${body.hand}` : ''}`);
  },
  hand_ended(table, body) {
    if (table.deal !== null && body.server_seed) {
      const clientSeeds = Object.fromEntries((body.client_seeds ?? []).map((s) => [s.seat, s.seed]));
      table.lastDeal = { ...table.deal, serverSeed: body.server_seed, clientSeeds };
    }
    table.deal = null;
    table._setStacks(body.seats, body.stacks);
    table._endHand();
    table.handsEnded += 1;
    table.pots = [];
  },
  hand_voided(table, body) {
    table.deal = null; // no reveal: the seed was lost with the table's memory
    table._setStacks(body.seats, body.stacks);
    table._endHand();
    table.pots = [];
    table._say(`hand #${body.hand_number} voided: stacks restored`);
  },
  table_status_changed(table, body) {
    table.status = body.status;
    table._say(`table ${body.status}`);
  },
};

// Compiled (never run) by `tsc -p tsconfig.json`: the SDK's declarations as a TypeScript user
// meets them. A change to the protocol that breaks this breaks TypeScript clients too.
import { TableState, TabliumClient, ServerError, type Protocol } from '../src/tablium.mjs';

export async function example(url: string): Promise<void> {
  const client = new TabliumClient(url, { clientName: 'types-usage' });
  const welcome: Protocol.Welcome = await client.connect();
  const login: Protocol.LoggedIn = await client.login('alice', 'correct horse');
  const table = new TableState('nt-1-2-a');
  client.on('push', (body) => table.apply(body));
  client.on('hole_cards', (body) => body.cards.join(' '));
  client.on('action_required', async (prompt) => {
    if (prompt.legal.check) await client.act(prompt, 'check_or_call');
    else if (prompt.legal.min_raise_to != null) await client.act(prompt, 'bet_or_raise_to', { amount: prompt.legal.min_raise_to });
    else await client.act(prompt, 'fold');
  });
  const seated: Protocol.Seated = await client.quickSeat({ variant: 'NT', bigBlind: 2, buyIn: 200 });
  const balance: Protocol.Balance = await client.walletBalance();
  try {
    await client.joinTable({ tableId: seated.table_id, buyIn: balance.available });
  } catch (error) {
    if (error instanceof ServerError && error.retryable) console.log(error.code, error.retryAfterMs);
  }
  const frame: Protocol.Request = { type: 'ping', id: 1 };
  console.log(welcome.version, login.resume, frame, table.seats.length);
}

// The fairness check (src/fairness.mjs), as a client that kept a hand's pushes calls it.
import { FairnessError, commitment, fairDeck, verifyObserved } from '../src/fairness.mjs';

export async function checkHand(
  committed: string,
  serverSeed: string,
  clientSeeds: Record<number, string>,
  seats: number[],
  mine: { seat: number; cards: string[]; seed: string },
  boards: [0 | 1, string[]][],
): Promise<string | null> {
  const deck: string[] = await fairDeck(serverSeed, 't1:7', clientSeeds);
  if (deck.length !== 52 || (await commitment(serverSeed)) !== committed) return 'commitment';
  try {
    await verifyObserved({
      commitment: committed, serverSeed, handId: 't1:7', clientSeeds, dealingOrder: seats,
      holeCardsEach: mine.cards.length, holeCards: { [mine.seat]: mine.cards }, boards,
      ownSeat: mine.seat, ownClientSeed: mine.seed,
    });
    return null;
  } catch (error) {
    if (error instanceof FairnessError) return error.code;
    throw error;
  }
}

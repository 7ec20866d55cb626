// The SDK's fairness check (src/fairness.mjs). Alone it checks the known-answer vectors of
// docs/fairness.md; run by tests/clients/test_js_fairness.py it also checks every vector the
// Python reference (poker/fairness.py) generated into TABLIUM_FAIR_VECTORS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  FairnessError,
  commitment,
  dealMessage,
  fairDeck,
  fromHex,
  toHex,
  verifyObserved,
} from '../src/fairness.mjs';

const KAT1_SEED = toHex(Uint8Array.from({ length: 32 }, (_, i) => i));
const KAT1_DECK =
  '8h 2d 5d 2s Jc Kc 2h 5c As Qh 7d 8s 5h Ts 8d 9s Th Ad 3s Td Js Jh 6d Qc 8c Kd ' +
  '7c 6s 9c 5s Ks 3c Qs Ah 4s Qd Ac 9d 9h 4d 3h 7h 4c Kh Jd Tc 2c 7s 3d 4h 6c 6h';
const KAT2 = {
  seed: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  hand: 'table-7:42',
  clientSeeds: { 0: '616c696365', 3: '626f622773206c75636b792073656564', 5: '00ff10' },
  commitment: 'b1c2d2af3a1d15b6e1173007376dfefa02809238114f7240cdf35dd23bc37310',
  message: [
    '7461626c69756d2d666169722d7631206465616c00', '000a', '7461626c652d373a3432', '03',
    '00', '05', '616c696365', '03', '10', '626f622773206c75636b792073656564', '05', '03', '00ff10',
  ].join(''),
  deck:
    '7d 2h Ts Qd Kc Qs 7s 5h Ah 8h Ac Kh 2s 2c Js Ad Qh 5s 3d 3h 4s Jc 3s Ks 9c 6c 5c 7c 3c 8s ' +
    'Jd 9h 9d 2d 5d Kd 6h 4h Th 8c Qc 8d Jh 6d 7h 4d Td 9s 4c As 6s Tc',
};

test('the known-answer vectors of docs/fairness.md', async () => {
  assert.equal(
    await commitment(KAT1_SEED),
    'a08b4c5d58044dca0dd0fe64912d7dc28fadfa8f7a234f049253a27e225c8caa',
  );
  assert.equal((await fairDeck(KAT1_SEED, 't1:1', {})).join(' '), KAT1_DECK);
  assert.equal(await commitment(fromHex(KAT2.seed)), KAT2.commitment);
  assert.equal(toHex(dealMessage(KAT2.hand, KAT2.clientSeeds)), KAT2.message);
  assert.equal((await fairDeck(KAT2.seed, KAT2.hand, KAT2.clientSeeds)).join(' '), KAT2.deck);
});

test('a heads-up hand of vector 1 verifies from what a player saw, and a changed card does not', async () => {
  const hand = {
    commitment: await commitment(KAT1_SEED),
    serverSeed: KAT1_SEED,
    handId: 't1:1',
    clientSeeds: {},
    dealingOrder: [1, 0],
    holeCardsEach: 2,
    holeCards: { 1: ['8h', '5d'] },
    boards: [[0, ['Kc', '2h', '5c']], [0, ['Qh']], [0, ['8s']]],
  };
  await verifyObserved(hand);
  await assert.rejects(
    verifyObserved({ ...hand, boards: [[0, ['Kc', '2h', '5c']], [0, ['Qh']], [0, ['As']]] }),
    (error) => error instanceof FairnessError && error.code === 'deal_mismatch',
  );
});

test('bad input is refused with fairness_input_invalid', async () => {
  for (const attempt of [
    () => commitment('00'),
    () => fairDeck(KAT1_SEED, '', {}),
    () => fairDeck(KAT1_SEED, 'h', { 10: 'aa' }),
    () => fairDeck(KAT1_SEED, 'h', { 0: '' }),
    () => fairDeck(KAT1_SEED, 'h', { 0: 'ab'.repeat(65) }),
    () => fairDeck(KAT1_SEED, 'x'.repeat(513), {}),
  ]) {
    await assert.rejects(attempt(), (error) => error.code === 'fairness_input_invalid');
  }
});

const vectorsPath = process.env.TABLIUM_FAIR_VECTORS;

test('every vector the Python reference generated', { skip: !vectorsPath }, async () => {
  const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8'));
  assert.ok(vectors.decks.length >= 100 && vectors.observed.length >= 20);
  for (const v of vectors.decks) {
    assert.equal(await commitment(v.server_seed), v.commitment, v.hand_id);
    assert.equal(toHex(dealMessage(v.hand_id, v.client_seeds)), v.message, v.hand_id);
    assert.equal((await fairDeck(v.server_seed, v.hand_id, v.client_seeds)).join(''), v.deck);
  }
  for (const v of vectors.observed) {
    let code = null;
    try {
      await verifyObserved({
        commitment: v.commitment,
        serverSeed: v.server_seed,
        handId: v.hand_id,
        clientSeeds: v.client_seeds,
        dealingOrder: v.dealing_order,
        holeCardsEach: v.hole_cards_each,
        holeCards: v.hole_cards,
        boards: v.boards,
        ownSeat: v.own_seat,
        ownClientSeed: v.own_client_seed,
      });
    } catch (error) {
      if (!(error instanceof FairnessError)) throw error;
      code = error.code;
    }
    assert.equal(code, v.expected, `${v.name}: ${v.hand_id}`);
  }
});

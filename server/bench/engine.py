"""``tablium bench engine``: our rules engine against PokerKit on the same hands.

The workload is seeded: 6-max no-limit hold'em hands played by random legal actions in our
engine (``poker.simulate``), recorded as PHH. Both engines then play those hands from the
same cards with the same actions, and each asks for the legal actions before every decision
(a player must, to choose), so both do the work of a random player without the cost of the
random choices. Times are this thread's CPU time; figures are medians of ``--repeats`` runs
of each side, run alternately in this one process; ratios are medians of the per-pair ratios
(robust on a shared machine).

Evaluation overhead: our ``holdem_high`` on the seven cards of every player dealt into a hand
of the workload that ran to the river, against raw ``eval7.evaluate`` calls on the same seven
cards prebuilt as eval7 cards.

The PokerKit side (``pokerkit_state``, ``pokerkit_play``) is also what the differential tests
drive. PokerKit is a dev dependency, imported inside the functions that use it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poker.phh import HandHistory

# PokerKit automates what our engine does by itself: forced bets, collecting bets, killing
# hands and pushing chips. Dealing and showdowns follow the recorded history. Burns are made
# by hand with an unknown card ("??"): PokerKit's automatic burn draws a random card from its
# own deck, which may be one the history deals later (PokerKit then warns on every such card).
_POKERKIT_AUTOMATIONS = (
    "ANTE_POSTING",
    "BET_COLLECTION",
    "BLIND_OR_STRADDLE_POSTING",
    "RUNOUT_COUNT_SELECTION",
    "HAND_KILLING",
    "CHIPS_PUSHING",
    "CHIPS_PULLING",
)


# Bounds on the workload (policy: argparse error). 100,000 hands is ~10 minutes of PokerKit.
BENCH_HANDS_MAX = 100_000
BENCH_REPEATS_MAX = 100


def _bounded(maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"between 1 and {maximum}")
        return value

    return parse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hands", type=_bounded(BENCH_HANDS_MAX), default=300, help="hands in the workload (300)"
    )
    parser.add_argument(
        "--repeats",
        type=_bounded(BENCH_REPEATS_MAX),
        default=5,
        help="timed runs of each side, alternating (5)",
    )
    parser.add_argument("--seed", type=int, default=1, help="workload seed (1)")


def pokerkit_game_type(variant: str) -> Any:
    """PokerKit's game class for a variant code, our extensions included: PokerKit composes
    its games from mixins, so pot-limit hold'em (PT) and pot-limit Omaha hi/lo (PO/8) are the
    obvious compositions of its own parts (PokerKit's PHH reader does not know them)."""
    import pokerkit
    from pokerkit import games, hands

    if variant in pokerkit.HandHistory.game_types:
        return pokerkit.HandHistory.game_types[variant]

    class PotLimitTexasHoldem(
        games.PotLimitPokerMixin, games.TexasHoldemMixin, games.UnfixedLimitHoldem
    ):
        pass

    class PotLimitOmahaHoldemHighLowSplitEightOrBetter(
        games.PotLimitPokerMixin, games.OmahaHoldemMixin, games.UnfixedLimitHoldem
    ):
        hand_types = (hands.OmahaHoldemHand, hands.OmahaEightOrBetterLowHand)

    extensions: dict[str, Any] = {
        "PT": PotLimitTexasHoldem,
        "PO/8": PotLimitOmahaHoldemHighLowSplitEightOrBetter,
    }
    return extensions[variant]


def pokerkit_state(history: HandHistory) -> Any:
    """A fresh PokerKit state for a PHH hand (cash game, no rake), before any dealing."""
    import pokerkit

    automations = tuple(getattr(pokerkit.Automation, name) for name in _POKERKIT_AUTOMATIONS)
    bet_sizes: tuple[int, ...] = (
        (history.small_bet or 0, history.big_bet or 0)
        if history.variant == "FT"
        else (history.min_bet or 0,)
    )
    game = pokerkit_game_type(history.variant)(
        automations,
        history.ante_trimming_status,
        list(history.antes),
        list(history.blinds_or_straddles),
        *bet_sizes,
        mode=pokerkit.Mode.CASH_GAME,
    )
    return game(list(history.starting_stacks), history.player_count)


def pokerkit_operations(history: HandHistory) -> list[tuple[str, Any]]:
    """The history as PokerKit calls: (method name, argument), parsed once up front."""
    from poker import phh

    operations: list[tuple[str, Any]] = []
    for text in history.actions:
        action = phh.parse_action(text)
        match action:
            case phh.DealHole(player, cards):
                operations.append(("deal_hole", ("".join(cards), player)))
            case phh.DealBoard(cards):
                operations.append(("deal_board", "".join(cards)))
            case phh.Fold():
                operations.append(("fold", None))
            case phh.CheckOrCall():
                operations.append(("check_or_call", None))
            case phh.CompleteBetOrRaiseTo(_, amount):
                operations.append(("complete_bet_or_raise_to", amount))
            case phh.ShowOrMuck(player, cards):
                operations.append(("show_or_muck", (cards is not None, player)))
    return operations


def pokerkit_play(history: HandHistory, operations: Sequence[tuple[str, Any]]) -> list[int]:
    """Play the operations in PokerKit, asking for the legal actions before each decision;
    the finishing stacks. Raises PokerKit's ValueError on an action it finds illegal."""
    state = pokerkit_state(history)
    for name, argument in operations:
        if name == "deal_hole":
            state.deal_hole(*argument)
        elif name == "deal_board":
            # PokerKit tables all-in hands before the run-out; PHH lists the shows last.
            pokerkit_before_board(state)
            state.deal_board(argument)
        elif name == "show_or_muck":
            if state.can_show_or_muck_hole_cards():
                state.show_or_muck_hole_cards(*argument)
        else:
            _pokerkit_legal_actions(state)
            if name == "complete_bet_or_raise_to":
                state.complete_bet_or_raise_to(argument)
            else:
                getattr(state, name)()
    while state.status and state.can_show_or_muck_hole_cards():
        state.show_or_muck_hole_cards(True)
    return list(state.stacks)


def pokerkit_before_board(state: Any) -> None:
    """What PokerKit needs before a board card: all-in hands tabled (PokerKit shows them
    before the run-out; PHH lists shows last) and the burn card."""
    while state.can_show_or_muck_hole_cards():
        state.show_or_muck_hole_cards(True)
    if state.can_burn_card():
        state.burn_card("??")


def _pokerkit_legal_actions(state: Any) -> tuple[bool, int | None, int | None, int | None]:
    can_raise = state.can_complete_bet_or_raise_to()
    return (
        state.can_fold(),
        state.checking_or_calling_amount,
        state.min_completion_betting_or_raising_to_amount if can_raise else None,
        state.max_completion_betting_or_raising_to_amount if can_raise else None,
    )


def _seconds(work: Callable[[], object]) -> float:
    """CPU seconds of this thread: both engines are single-threaded and do no I/O, so CPU time
    is their whole cost, without the time a busy machine gives other processes."""
    started = time.thread_time()
    work()
    return time.thread_time() - started


def _paired_medians(
    ours: Callable[[], object], baseline: Callable[[], object], repeats: int
) -> tuple[float, float, float]:
    """Median seconds of each, and the median of the per-pair ratios baseline/ours. The two
    run alternately so a load spike on a shared machine hits both sides of a pair."""
    ours_s: list[float] = []
    baseline_s: list[float] = []
    for _ in range(repeats):
        ours_s.append(_seconds(ours))
        baseline_s.append(_seconds(baseline))
    ratios = [b / o for o, b in zip(ours_s, baseline_s, strict=True)]
    return statistics.median(ours_s), statistics.median(baseline_s), statistics.median(ratios)


def run(args: argparse.Namespace) -> int:
    import eval7

    from poker import Card, Deck, Hand, Variant
    from poker.evaluation import holdem_high
    from poker.simulate import (
        config_from_history,
        engine_actions,
        seats_for,
        simulate_hands,
        stacked_deck,
    )

    rng = random.Random(args.seed)
    workload = list(simulate_hands(Variant.NO_LIMIT_HOLDEM, 6, args.hands, rng))

    # Our side, prepared outside the timing: config, seats, deck, actions per hand.
    ours: list[tuple[Any, Any, int, list[Any], list[Any]]] = []
    for history in workload:
        config = config_from_history(history)
        deck = stacked_deck(config, history)
        seats = seats_for(history.starting_stacks)
        ours.append(
            (config, seats, history.player_count - 1, list(deck.cards), engine_actions(history))
        )

    def play_ours() -> None:
        for config, seats, button, cards, actions in ours:
            hand = Hand(config, seats, button, Deck(cards))
            hand.start()
            for action in actions:
                if hand.is_over:
                    break
                hand.legal_actions()
                hand.apply(action)

    theirs = [(history, pokerkit_operations(history)) for history in workload]

    def play_pokerkit() -> None:
        for history, operations in theirs:
            pokerkit_play(history, operations)

    play_ours()  # warm-up: first-call costs (imports, caches) are not the engine's speed
    with warnings.catch_warnings():
        # PokerKit warns (UserWarning) when asked whether a player who may check can fold.
        warnings.simplefilter("ignore")
        ours_s, pokerkit_s, ratio = _paired_medians(play_ours, play_pokerkit, args.repeats)

    # Evaluation: every seven-card hand that reached a five-card board, both ways.
    sevens = _showdown_sevens(workload)
    if not sevens:
        print("tablium bench engine: no hand reached the river; use more --hands")
        return 2
    raw_cards = [[eval7.Card(code) for code in (*hole, *board)] for hole, board in sevens]
    ours_cards = [
        ([Card.parse(c) for c in hole], [Card.parse(c) for c in board]) for hole, board in sevens
    ]
    evaluate = eval7.evaluate
    loops = max(1, 200_000 // max(1, len(sevens)))

    def eval_ours() -> None:
        for _ in range(loops):
            for hole, board in ours_cards:
                holdem_high(hole, board)

    def eval_raw() -> None:
        for _ in range(loops):
            for cards in raw_cards:
                evaluate(cards)

    eval_ours_s, eval_raw_s, raw_over_ours = _paired_medians(eval_ours, eval_raw, args.repeats)
    evaluations = loops * len(sevens)

    figures = {
        "bench": "engine",
        "hands": len(workload),
        "ours_hands_per_s": round(len(workload) / ours_s, 1),
        "pokerkit_hands_per_s": round(len(workload) / pokerkit_s, 1),
        "ratio": round(ratio, 2),
        "eval_ours_per_s": round(evaluations / eval_ours_s),
        "eval_raw_per_s": round(evaluations / eval_raw_s),
        "eval_overhead": round(1 / raw_over_ours, 3),
    }
    if args.json:
        print(json.dumps(figures, separators=(",", ":")))
        return 0
    print(f"workload: {len(workload)} hands of 6-max NLHE, seed {args.seed}, medians of runs")
    print(f"ours:     {figures['ours_hands_per_s']:>12,.1f} hands/s")
    print(f"pokerkit: {figures['pokerkit_hands_per_s']:>12,.1f} hands/s")
    print(f"ratio:    {figures['ratio']:>12,.2f}x (goal 100x)")
    print(f"eval ours {figures['eval_ours_per_s']:>12,} /s over {len(sevens)} seven-card hands")
    print(f"eval raw  {figures['eval_raw_per_s']:>12,} /s (eval7.evaluate)")
    print(f"overhead: {figures['eval_overhead']:>12,.3f}x (goal <= 1.3x)")
    return 0


def _showdown_sevens(
    workload: Sequence[HandHistory],
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Hole cards and full board of every player dealt into a hand that ran to the river
    (the evaluations a showdown of those hands can need)."""
    from poker import phh

    sevens: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for history in workload:
        holes: list[tuple[str, ...]] = []
        board: list[str] = []
        for text in history.actions:
            action = phh.parse_action(text)
            if isinstance(action, phh.DealHole):
                holes.append(action.cards)
            elif isinstance(action, phh.DealBoard):
                board.extend(action.cards)
        if len(board) == 5:
            sevens.extend((hole, tuple(board)) for hole in holes)
    return sevens

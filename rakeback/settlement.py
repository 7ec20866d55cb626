"""A period's settlement: each player's rakeback, each agent's commission, what funds them, and
where every chip of rake (and every fraction of a chip) stays.

Inputs: each player's rake in the period by source (attribution.py), her status for the
period (tiers.py), the program's tier table, its ``deal_bp`` and its agents.

Formulas (integers throughout; ``bp`` = basis points, 10 000 = 100 %):

- player p, source s:  ``rakeback[p, s] = rake[p, s] x bp(paid_tier(p)) // 10 000``;
  the player's rakeback is the sum over sources, paid in one transfer.
- agent a with rate ``c(a)`` and members M(a) (the members whose agent a is):
  ``commission[a] = max(0, R(a) x c(a) // 10 000 - RB(a))``, where ``R(a)`` is the members'
  rake (all sources) and ``RB(a)`` the rakeback the members receive: the agent's cut of her
  members' rake minus what they get themselves.
- the program's funding (moved from the house's rake and fee accounts into the program's
  rakeback account before anyone is paid):
  * the house's program (``deal_bp`` None) is funded exactly what it pays: per source, its
    players' rakeback of that source, plus the commissions from the cash source;
  * a club's program gets its deal, ``share = R x deal_bp // 10 000`` of its rake ``R``
    (all sources), split between the sources by ``apportion`` in proportion to their rake;
    what the club does not pay out stays in its rakeback account (``payer_kept``). A club's
    tiers and agent rates never exceed its deal (checked), so the payments fit in the share.

Rounding: every ``//`` rounds down once per (player, source) or agent per period; the cut-off
fraction, counted in 1/10 000 chip (``remainder_units``), stays with the payer. Conservation,
asserted by :func:`settle` for every settlement it returns:

    R = house_kept + share,   share = paid + payer_kept,   payer_kept >= 0,
    rakeback[p, s] x 10 000 + remainder_units[p, s] = rake[p, s] x bp(p)  (each p, s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, final

from protocol.limits import BASIS_POINTS
from rakeback.attribution import SOURCES, Source, apportion
from rakeback.tiers import TierTable

AGENTS_MAX: Final = 10_000  # bound per program; more is refused (InvalidProgram)


class InvalidProgram(ValueError):
    """Program settings that cannot be settled: a rate above the club's deal, an agent of
    herself, a basis-point value out of range (an operator's or club owner's mistake)."""


@final
@dataclass(frozen=True, slots=True)
class Program:
    """A rakeback program: the house's (``deal_bp`` None) or one club's."""

    tiers: TierTable
    deal_bp: int | None = None  # a club's share of its rake; None: the house's program
    agent_rates_bp: Mapping[int, int] = field(default_factory=dict)  # agent -> commission bp
    member_agents: Mapping[int, int] = field(default_factory=dict)  # member -> her agent

    def __post_init__(self) -> None:
        check_program(self)


def check_program(program: Program) -> None:
    deal = program.deal_bp
    if deal is not None:
        if not 0 <= deal <= BASIS_POINTS:
            raise InvalidProgram(f"a club's deal is 0..{BASIS_POINTS} basis points")
        if program.tiers.top_bp > deal:
            raise InvalidProgram(
                f"a tier pays {program.tiers.top_bp} bp, more than the club's deal of {deal} bp"
            )
    if len(program.agent_rates_bp) > AGENTS_MAX:
        raise InvalidProgram(f"at most {AGENTS_MAX} agents")
    for agent, rate in program.agent_rates_bp.items():
        if not 0 <= rate <= (BASIS_POINTS if deal is None else deal):
            raise InvalidProgram(f"agent {agent}: a commission rate is 0..the deal, not {rate}")
    for member, agent in program.member_agents.items():
        if member == agent:
            raise InvalidProgram(f"player {member} cannot be her own agent")


@final
@dataclass(frozen=True, slots=True)
class PlayerAccrual:
    player_id: int
    rake: Mapping[Source, int]  # by source
    points: int
    status: int  # her status for this period (from the previous one)
    paid_tier: int
    rate_bp: int
    rakeback: Mapping[Source, int]  # by source
    remainder_units: int  # 1/10 000 chips cut off by rounding, kept by the payer
    next_status: int  # her status for the next period (grace rule)
    agent_id: int | None

    @property
    def total_rake(self) -> int:
        return sum(self.rake.values())

    @property
    def total_rakeback(self) -> int:
        return sum(self.rakeback.values())


@final
@dataclass(frozen=True, slots=True)
class AgentAccrual:
    agent_id: int
    members: int  # members with rake in the period
    members_rake: int
    rate_bp: int
    members_rakeback: int
    commission: int
    remainder_units: int  # of R(a) x c(a) / 10 000, kept by the payer


@final
@dataclass(frozen=True, slots=True)
class Settlement:
    players: tuple[PlayerAccrual, ...]  # by player id
    agents: tuple[AgentAccrual, ...]  # by agent id
    rake: Mapping[Source, int]  # the program's rake, by source
    funding: Mapping[Source, int]  # moved into the program's account, by source account
    paid: int  # rakeback + commissions
    house_kept: int  # rake the house keeps: rake - share
    payer_kept: int  # share the program's account keeps (a club's margin and remainders)

    @property
    def share(self) -> int:
        return sum(self.funding.values())

    @property
    def total_rake(self) -> int:
        return sum(self.rake.values())

    @property
    def rakeback_paid(self) -> int:
        return sum(p.total_rakeback for p in self.players)

    @property
    def commission_paid(self) -> int:
        return sum(a.commission for a in self.agents)


def settle(
    program: Program,
    rake: Mapping[int, Mapping[Source, int]],
    statuses: Mapping[int, int],
) -> Settlement:
    """The period's settlement from each player's rake by source (>= 0) and her status.

    Players with no rake appear only while their status is above the first tier (their status
    must still decay by the grace rule); the rest are left out.
    """
    tiers = program.tiers
    players: list[PlayerAccrual] = []
    for player in sorted(set(rake) | {p for p, s in statuses.items() if s > 0}):
        by_source = {s: rake.get(player, {}).get(s, 0) for s in SOURCES}
        if min(by_source.values()) < 0:
            raise ValueError(f"player {player}: negative rake")
        total = sum(by_source.values())
        status = tiers.clamp(statuses.get(player, 0))
        points = tiers.points(total)
        paid_tier = tiers.paid_tier(status, points)
        rate = tiers.tiers[paid_tier].rakeback_bp
        back = {s: by_source[s] * rate // BASIS_POINTS for s in SOURCES}
        remainder = sum(by_source[s] * rate % BASIS_POINTS for s in SOURCES)
        next_status = tiers.next_status(status, points)
        if total == 0 and status == 0 and next_status == 0:
            continue
        players.append(PlayerAccrual(
            player_id=player, rake=by_source, points=points, status=status,
            paid_tier=paid_tier, rate_bp=rate, rakeback=back, remainder_units=remainder,
            next_status=next_status, agent_id=program.member_agents.get(player),
        ))  # fmt: skip
    agents: list[AgentAccrual] = []
    for agent in sorted({p.agent_id for p in players if p.agent_id is not None}):
        members = [p for p in players if p.agent_id == agent and p.total_rake > 0]
        members_rake = sum(p.total_rake for p in members)
        members_back = sum(p.total_rakeback for p in members)
        rate = program.agent_rates_bp.get(agent, 0)
        cut = members_rake * rate // BASIS_POINTS
        if not members_rake:
            continue
        agents.append(AgentAccrual(
            agent_id=agent, members=len(members), members_rake=members_rake, rate_bp=rate,
            members_rakeback=members_back, commission=max(0, cut - members_back),
            remainder_units=members_rake * rate % BASIS_POINTS,
        ))  # fmt: skip
    program_rake = {s: sum(p.rake[s] for p in players) for s in SOURCES}
    total_rake = sum(program_rake.values())
    paid = sum(p.total_rakeback for p in players) + sum(a.commission for a in agents)
    if program.deal_bp is None:
        funding = {s: sum(p.rakeback[s] for p in players) for s in SOURCES}
        funding["cash"] += sum(a.commission for a in agents)
    else:
        share = total_rake * program.deal_bp // BASIS_POINTS
        weights = [program_rake[s] for s in SOURCES]
        parts = apportion(share, weights) if total_rake else (0,) * len(SOURCES)
        funding = dict(zip(SOURCES, parts, strict=True))
    settlement = Settlement(
        players=tuple(players), agents=tuple(agents), rake=program_rake, funding=funding,
        paid=paid, house_kept=total_rake - sum(funding.values()),
        payer_kept=sum(funding.values()) - paid,
    )  # fmt: skip
    check_conservation(settlement)
    return settlement


def check_conservation(s: Settlement) -> None:
    """The invariants in the module docstring; a violation is our bug (AssertionError)."""
    assert s.total_rake == s.house_kept + s.share, "rake = house kept + share"
    assert s.share == s.paid + s.payer_kept, "share = paid + kept by the payer"
    assert s.payer_kept >= 0 and s.house_kept >= 0, "nobody pays out more than it received"
    assert s.paid == s.rakeback_paid + s.commission_paid
    for source in SOURCES:
        assert s.funding[source] >= 0
    for p in s.players:
        owed = sum(p.rake[src] * p.rate_bp for src in SOURCES)
        assert p.total_rakeback * BASIS_POINTS + p.remainder_units == owed, "rounding"
    for a in s.agents:
        assert a.commission >= 0

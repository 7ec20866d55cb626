"""Club tournaments, club table closes and the open-tables bound in the club service
(services/clubs.py) and rakeback (services/rakeback.py), on both backends: who may create a
tournament or close a table, who may enter a club tournament or its tables, a club
tournament's fees counted as the club's rake (and not the house's), and the 500-tables bound
counting open tables only."""

from __future__ import annotations

from functools import partial

import pytest

from actors.table.admin import EPOCH_KIND, TOMBSTONE_KIND, epoch_id, tombstone_id
from persistence import clubs as club_db
from persistence.audit import AuditStamp
from persistence.snapshots import Snapshot
from persistence.store import Store
from rakeback.periods import period_containing
from services import clubs as clubs_module
from services.club_rules import (
    ClubLimitReached,
    ClubPermissionDenied,
    InvalidClubInput,
    NotClubMember,
)
from services.clubs import TABLE_OPENING_MS, Clubs
from services.rakeback import Rakeback
from services.wallet import Wallet
from tests.clubs.conftest import player
from tests.persistence.stores import ManualClock


async def _club(store: Store, clubs: Clubs) -> tuple[int, int, int, int]:
    """(club id, owner, member, outsider): an open club."""
    olga, bea, oscar = [await player(store, name) for name in ("olga", "bea", "oscar")]
    info = await clubs.create(olga, "Owls", join_policy="open")
    await clubs.join(bea, info.code)
    return info.club_id, olga, bea, oscar


async def test_only_owners_and_managers_create_club_tournaments(store: Store, clubs: Clubs) -> None:
    club_id, olga, bea, oscar = await _club(store, clubs)
    await clubs.check_create_tournament(olga, club_id)
    with pytest.raises(ClubPermissionDenied):
        await clubs.check_create_tournament(bea, club_id)
    with pytest.raises(NotClubMember):
        await clubs.check_create_tournament(oscar, club_id)
    await clubs.set_role(olga, club_id, bea, "manager")
    await clubs.check_create_tournament(bea, club_id)


async def test_a_club_tournament_and_its_tables_are_for_members_only(
    store: Store, clubs: Clubs
) -> None:
    club_id, olga, bea, oscar = await _club(store, clubs)
    now = store.clock_ms()
    await store.run(partial(club_db.register_tournament, club_id, 7, now))
    assert await clubs.check_tournament_access(bea, 7) == club_id
    assert await clubs.check_table_access(bea, "t7-2") == club_id
    assert await clubs.check_tournament_access(oscar, 8) is None  # a public one
    assert await clubs.check_table_access(oscar, "t8-1") is None
    with pytest.raises(NotClubMember):
        await clubs.check_tournament_access(oscar, 7)
    with pytest.raises(NotClubMember):
        await clubs.check_table_access(oscar, "t7-1")
    await clubs.remove(olga, club_id, bea)
    with pytest.raises(NotClubMember):
        await clubs.check_tournament_access(bea, 7)


async def test_only_owners_and_managers_close_the_clubs_own_tables(
    store: Store, clubs: Clubs
) -> None:
    club_id, olga, bea, oscar = await _club(store, clubs)
    table_id = await clubs.new_table_id(olga, club_id)
    assert await clubs.check_close_table(olga, club_id, table_id) == "owner"
    with pytest.raises(ClubPermissionDenied):
        await clubs.check_close_table(bea, club_id, table_id)
    with pytest.raises(NotClubMember):
        await clubs.check_close_table(oscar, club_id, table_id)
    with pytest.raises(InvalidClubInput):  # a public table is not the club's to close
        await clubs.check_close_table(olga, club_id, "public-1")
    with pytest.raises(InvalidClubInput):  # not of the club's namespace: not hers to register
        await clubs.register_table(olga, club_id, "house-7")
    staff = AuditStamp("staff", "admin", "clubs.register_table", f"club:{club_id}", "", "r-1")
    await clubs.register_table(None, club_id, "house-7", audit_as=staff)
    with pytest.raises(InvalidClubInput):  # registered, not opened by the club: staff's
        await clubs.check_close_table(olga, club_id, "house-7")
    await clubs.set_role(olga, club_id, bea, "manager")
    assert await clubs.check_close_table(bea, club_id, table_id) == "manager"


async def test_the_table_bound_counts_open_tables_only(
    store: Store, clubs: Clubs, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clubs_module, "CLUB_TABLES_MAX", 2)
    club_id, olga, _, _ = await _club(store, clubs)
    first = await clubs.new_table_id(olga, club_id)
    second = await clubs.new_table_id(olga, club_id)
    for table_id in (first, second):  # both started (their epoch counters)
        counter = Snapshot(kind=EPOCH_KIND, actor_id=epoch_id(table_id), version=1, data=b"")
        await store.save_snapshot(counter)
    clock.now_ms += TABLE_OPENING_MS
    with pytest.raises(ClubLimitReached):
        await clubs.new_table_id(olga, club_id)
    # The first closes for good (its tombstone): a new one may open.
    closed = Snapshot(kind=TOMBSTONE_KIND, actor_id=tombstone_id(first), version=1, data=b"")
    await store.save_snapshot(closed)
    third = await clubs.new_table_id(olga, club_id)
    with pytest.raises(ClubLimitReached):  # being opened: it counts before it starts
        await clubs.new_table_id(olga, club_id)
    # An opening that never started (the lobby refused it) counts no more after a while.
    clock.now_ms += TABLE_OPENING_MS
    fourth = await clubs.new_table_id(olga, club_id)
    assert len({first, second, third, fourth}) == 4
    assert sorted(await clubs.tables(olga, club_id)) == sorted([first, second, third, fourth])


async def test_a_club_tournaments_fees_are_the_clubs_rake_not_the_houses(
    store: Store, clubs: Clubs, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    club_id, _, bea, oscar = await _club(store, clubs)
    for i, pid in enumerate((bea, oscar)):
        deposit = await wallet.request_deposit(f"fund-{i}", pid, 10_000)
        await wallet.post(deposit.id)
    await store.run(partial(club_db.register_tournament, club_id, 7, store.clock_ms()))
    period = period_containing("day", clock.now_ms)
    # The keys services/tournaments.py gives fees: tournament:<id>:<op>:fee.
    await wallet.pay_entry_fee("tournament:7:entry:1:fee", bea, 400, "tournament:7:entry:1")
    await wallet.pay_entry_fee("tournament:8:entry:1:fee", bea, 100, "tournament:8:entry:1")
    await wallet.pay_entry_fee("tournament:8:entry:2:fee", oscar, 50, "tournament:8:entry:2")
    clock.now_ms = period.end_ms + rakeback.policy.settle_delay_ms
    club = await rakeback.preview(f"club:{club_id}", period)
    house = await rakeback.preview("house", period)
    assert (club.rake_tournament, house.rake_tournament) == (400, 150)
    assert {a.beneficiary_id: a.rake_tournament for a in club.accruals} == {bea: 400}
    traced = await rakeback.trace(f"club:{club_id}", period, bea)
    assert [t.amount for t in traced] == [400]

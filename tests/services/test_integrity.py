"""The integrity reports over stored hands (services/integrity.py, persistence/integrity.py),
and staff reviews of flags with their audit entries. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from persistence import Store
from persistence.audit import AuditStamp
from persistence.integrity import ReviewRefused
from poker.integrity import BIG_LOSS_WEAK_HAND
from services import integrity
from services.integrity import DAY_MS, IntegrityRefused, Period, parse_flag_id
from tests.persistence.conftest import clock, store
from tests.poker.integrity.generated import COLLUDERS, DUMPEE, DUMPER, generate_room
from tests.services.integrity_store import BASE_MS, store_room

__all__ = ["clock", "store"]  # fixtures

ROOM = generate_room(3)
PERIOD = Period(BASE_MS, BASE_MS + 2 * DAY_MS)
DUMPING_FLAG = f"dumping:chips:{DUMPER}:{DUMPEE}"


def stamp(action: str, target: str, reason: str = "looked at the hands") -> AuditStamp:
    return AuditStamp(
        subject="sam", role="support", action=action, target=target, reason=reason,
        request_id="r-1",
    )  # fmt: skip


@pytest.fixture
async def room(store: Store) -> Store:
    await store_room(store, ROOM.hands)
    return store


async def test_the_dumping_report_of_stored_hands_flags_the_planted_pair(room: Store) -> None:
    report = await integrity.dumping_report(room, PERIOD)
    assert [f.flag_id for f in report.flags] == [DUMPING_FLAG]
    assert report.hands_scanned == len(ROOM.hands)
    assert report.flags[0].hands == ()  # a list page: figures only


async def test_a_flag_with_its_hands_carries_the_patterns_of_their_histories(
    room: Store,
) -> None:
    flag = await integrity.find_flag(room, parse_flag_id(DUMPING_FLAG), PERIOD)
    assert flag is not None and flag.flag_id == DUMPING_FLAG
    assert flag.hands and flag.pattern_counts.get(BIG_LOSS_WEAK_HAND, 0) >= 10  # type: ignore[union-attr]


async def test_the_collusion_report_of_stored_hands_signals_the_planted_pairs(
    room: Store,
) -> None:
    report = await integrity.collusion_report(room, PERIOD, list_hands=True)
    assert {s.players for s in report.signals} == {COLLUDERS, (DUMPER, DUMPEE)}
    assert all(s.hand_ids for s in report.signals)


async def test_hands_outside_the_period_are_not_read(room: Store) -> None:
    report = await integrity.dumping_report(room, Period(BASE_MS - DAY_MS, BASE_MS))
    assert report.hands_scanned == 0 and not report.flags


async def test_a_period_over_the_hands_bound_is_refused(
    room: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "HANDS_SCANNED_MAX", len(ROOM.hands) - 1)
    with pytest.raises(IntegrityRefused) as refused:
        await integrity.dumping_report(room, PERIOD)
    assert refused.value.code == "period_too_large"


@pytest.mark.parametrize(
    ("from_ms", "to_ms", "code"),
    [
        (10, 10, "invalid_period"),
        (-1, 10, "invalid_period"),
        (0, 93 * DAY_MS, "period_too_large"),
    ],
)
def test_periods_out_of_bounds_are_refused(from_ms: int, to_ms: int, code: str) -> None:
    with pytest.raises(IntegrityRefused) as refused:
        Period.of(from_ms, to_ms, now_ms=100 * DAY_MS)
    assert refused.value.code == code


def test_the_default_period_is_the_last_30_days() -> None:
    assert Period.of(None, None, now_ms=40 * DAY_MS) == Period(10 * DAY_MS, 40 * DAY_MS)
    assert Period.of(None, 5, now_ms=40 * DAY_MS) == Period(0, 5)  # never before the epoch


@pytest.mark.parametrize(
    "text",
    [
        "dumping:chips:1",
        "dumping:chips:1:1",
        "collusion:chips:2:1",
        "other:chips:1:2",
        "dumping:CHIPS:1:2",
        "dumping:chips:1:2:3",
        "dumping:chips:1:" + "9" * 19,
        "dumping:chips:01:2",
    ],
)
def test_malformed_flag_ids_are_refused(text: str) -> None:
    with pytest.raises(IntegrityRefused) as refused:
        parse_flag_id(text)
    assert refused.value.code == "invalid_flag_id"


async def test_a_review_and_its_audit_entry_land_together(store: Store) -> None:
    name = parse_flag_id(DUMPING_FLAG)
    review, account = await integrity.review_flag(
        store, name, DUMPING_FLAG, "dismissed", stamp("integrity.dismiss", DUMPING_FLAG)
    )
    assert (review.status, review.reviewed_by, account) == ("dismissed", "sam", None)
    (entry,) = await store.list_audit(target=DUMPING_FLAG)
    assert entry.action == "integrity.dismiss" and entry.before == {"review": None}
    assert entry.after["review"]["status"] == "dismissed"
    with pytest.raises(ReviewRefused) as refused:
        await integrity.review_flag(
            store, name, DUMPING_FLAG, "dismissed", stamp("integrity.dismiss", DUMPING_FLAG)
        )
    assert refused.value.code == "review_unchanged"
    assert len(await store.list_audit(target=DUMPING_FLAG)) == 1  # a refusal logs nothing


async def test_a_ban_from_a_flag_bans_confirms_and_logs_in_one_transaction(store: Store) -> None:
    giver = await store.create_account("giver", "hash", "player")
    receiver = await store.create_account("receiver", "hash", "player")
    flag_id = f"dumping:chips:{giver.id}:{receiver.id}"
    name = parse_flag_id(flag_id)
    target = f"player:{giver.id}"
    review, account = await integrity.review_flag(
        store, name, flag_id, "confirmed", stamp("integrity.ban", target), ban_player_id=giver.id
    )
    assert review.status == "confirmed" and review.banned_player_id == giver.id
    assert account is not None and account.banned
    (entry,) = await store.list_audit(target=target)
    assert entry.before["account"]["banned"] is False and entry.after["account"]["banned"]
    assert entry.after["review"]["flag_id"] == flag_id
    with pytest.raises(ReviewRefused) as refused:
        await integrity.review_flag(
            store, name, flag_id, "confirmed", stamp("integrity.ban", target),
            ban_player_id=giver.id,
        )  # fmt: skip
    assert refused.value.code == "player_already_banned"


async def test_a_ban_of_someone_else_or_of_no_account_changes_nothing(store: Store) -> None:
    name = parse_flag_id("collusion:chips:7:8")
    with pytest.raises(IntegrityRefused) as outside:
        await integrity.review_flag(
            store, name, "collusion:chips:7:8", "confirmed", stamp("integrity.ban", "player:9"),
            ban_player_id=9,
        )  # fmt: skip
    assert outside.value.code == "player_not_in_flag"
    with pytest.raises(ReviewRefused) as unknown:
        await integrity.review_flag(
            store, name, "collusion:chips:7:8", "confirmed", stamp("integrity.ban", "player:7"),
            ban_player_id=7,
        )  # fmt: skip
    assert unknown.value.code == "unknown_player"
    assert await integrity.review_of(store, "collusion:chips:7:8") is None
    assert await store.list_audit() == []


@given(
    st.one_of(
        st.text(max_size=120),
        st.from_regex(r"\A(dumping|collusion|x):[a-zA-Z]{0,3}:[0-9]{1,3}:[0-9]{1,3}\Z"),
    )
)
def test_any_flag_id_text_parses_to_what_it_names_or_is_refused(text: str) -> None:
    try:
        name = parse_flag_id(text)
    except IntegrityRefused as refused:
        assert refused.code == "invalid_flag_id"
        return
    assert f"{name.kind}:{name.asset}:{name.first}:{name.second}" == text

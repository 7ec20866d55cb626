"""Clubs over the websocket (protocol/clubs.py, server/club_requests.py), on the real store:
a club's life, the permission table over the wire (a member cannot act as a manager), a banned
member cannot rejoin, and bad input answered with an error that changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol import clubs as wire
from protocol.client import Client, ServerError, open_client
from protocol.messages import Ok
from tests.persistence.stores import BACKENDS, store_url
from tests.protocol.gateway_harness import PASSWORD, gateway_and_store


async def _refused(client: Client, message: object, code: str) -> None:
    with pytest.raises(ServerError) as caught:
        await client.request(message)  # type: ignore[arg-type]
    assert caught.value.code == code, caught.value


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_clubs_life_and_its_permissions_over_the_wire(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with (
        gateway_and_store(tmp_path, database_url=database_url) as (gateway, store),
        open_client(gateway.url) as olga,
        open_client(gateway.url) as bea,
        open_client(gateway.url) as cid,
    ):
        await olga.register("olga", PASSWORD)
        await bea.register("beatrice", PASSWORD)
        await cid.register("cidney", PASSWORD)
        bea_id = (await store.get_account_by_name("beatrice")).id  # type: ignore[union-attr]
        cid_id = (await store.get_account_by_name("cidney")).id  # type: ignore[union-attr]
        created = await olga.request(wire.ClubCreate(id=0, name="Night Owls", join_policy="open"))
        assert isinstance(created, wire.ClubInfo)
        club = created.club
        joined = await bea.request(wire.ClubJoin(id=0, code=club.code.lower()))
        assert isinstance(joined, wire.ClubJoined) and joined.state == "member"
        await cid.request(wire.ClubJoin(id=0, code=club.code))
        mine = await bea.request(wire.ClubListMine(id=0))
        assert isinstance(mine, wire.ClubList) and [c.role for c in mine.clubs] == ["member"]
        # A member cannot act as a manager.
        for message in (
            wire.ClubMemberAction(id=0, club_id=club.club_id, player_id=cid_id, action="remove"),
            wire.ClubMemberAction(id=0, club_id=club.club_id, player_id=cid_id, action="ban"),
            wire.ClubSetRole(id=0, club_id=club.club_id, player_id=cid_id, role="manager"),
            wire.ClubMembers(id=0, club_id=club.club_id),
            wire.ClubUpdate(id=0, club_id=club.club_id, join_policy="invitation"),
            wire.ClubRegisterTable(id=0, club_id=club.club_id, table_id="c-1"),
            wire.ClubStatsRequest(id=0, club_id=club.club_id, period="week:2026-11-30"),
        ):
            await _refused(bea, message, "club_permission_denied")
        # The owner makes her a manager: now she may remove a member, not ban the owner.
        promoted = await olga.request(
            wire.ClubSetRole(id=0, club_id=club.club_id, player_id=bea_id, role="manager")
        )
        assert isinstance(promoted, wire.ClubMember) and promoted.member.role == "manager"
        banned = await bea.request(
            wire.ClubMemberAction(id=0, club_id=club.club_id, player_id=cid_id, action="ban")
        )
        assert isinstance(banned, Ok)
        await _refused(cid, wire.ClubJoin(id=0, code=club.code), "banned_from_club")
        await _refused(cid, wire.ClubGet(id=0, club_id=club.club_id), "not_club_member")
        page = await olga.request(wire.ClubMembers(id=0, club_id=club.club_id))
        assert isinstance(page, wire.ClubMemberPage)
        assert [m.role for m in page.members] == ["owner", "manager"]
        detail = await bea.request(wire.ClubGet(id=0, club_id=club.club_id))
        assert isinstance(detail, wire.ClubDetail) and detail.rakeback_deal_bp == 0
        await _refused(olga, wire.ClubLeave(id=0, club_id=club.club_id), "club_owner_cannot_leave")
        tiers = await bea.request(wire.RakebackTiersRequest(id=0))
        assert isinstance(tiers, wire.RakebackTiers) and tiers.tiers[0].threshold_points == 0
        statement = await bea.request(wire.RakebackStatementRequest(id=0))
        assert isinstance(statement, wire.RakebackStatement) and statement.lines == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_bad_club_input_is_an_error_and_changes_nothing(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with (
        gateway_and_store(tmp_path, database_url=database_url) as (gateway, store),
        open_client(gateway.url) as olga,
    ):
        await olga.register("olga", PASSWORD)
        await _refused(olga, wire.ClubCreate(id=0, name="  x  "), "invalid_club_input")
        await _refused(olga, wire.ClubFind(id=0, code="NOPE00"), "club_not_found")
        await _refused(olga, wire.ClubGet(id=0, club_id=99), "club_not_found")
        created = await olga.request(wire.ClubCreate(id=0, name="Owls"))
        assert isinstance(created, wire.ClubInfo)
        club_id = created.club.club_id
        bad_tiers = wire.ClubSetTiers(
            id=0, club_id=club_id,
            tiers=[wire.TierRecord(name="Base", threshold_points=0, rakeback_bp=100)],
        )  # fmt: skip
        await _refused(olga, bad_tiers, "invalid_club_input")  # above the deal of 0
        await _refused(
            olga, wire.ClubStatsRequest(id=0, club_id=club_id, period="week:2026-12-01"),
            "invalid_period",
        )  # fmt: skip
        detail = await olga.request(wire.ClubGet(id=0, club_id=club_id))
        assert isinstance(detail, wire.ClubDetail) and detail.tiers is None
        assert (await store.list_audit()) == []

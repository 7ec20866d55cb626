"""Hypothesis over the tournament requests' wire shapes: whatever map arrives under a
tournament request's type, the decoder gives back that request exactly or refuses it with a
typed error carrying a stable code (never a crash, never a half-read request)."""

from __future__ import annotations

from typing import get_args

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import RequestDecoder
from protocol.tournaments import TournamentRequest
from tests.protocol.test_codec_fuzz import decode_or_refuse, values

EXAMPLES = 400

decoder = RequestDecoder()
TAGS = [t.__struct_config__.tag for t in get_args(TournamentRequest)]
FIELDS = [
    "tournament_id", "state", "kind", "asset", "buy_in_min", "buy_in_max", "offset", "limit",
    "deal_id", "accept", "keep", "z",
]  # fmt: skip
field_values = st.one_of(
    values,
    st.sampled_from(["registering", "running", "mtt", "sng", "chips", "play", "icm", "chip_chop"]),
    st.integers(min_value=-1, max_value=2**63),
)
frames = st.builds(
    lambda kind, rid, rest: msgspec.msgpack.encode({"type": kind, "id": rid, **rest}),
    st.sampled_from(TAGS),
    st.integers(min_value=-2, max_value=2**32 + 1),
    st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=5),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(frames)
def test_any_tournament_request_decodes_exactly_or_is_refused_with_a_code(frame: bytes) -> None:
    decode_or_refuse(decoder, frame)

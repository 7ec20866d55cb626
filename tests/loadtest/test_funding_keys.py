"""The swarm's funding keys name one credit forever: a run tag too long to fit the admin
API's key is refused, never cut (a cut key could name two bots, or two runs)."""

from __future__ import annotations

import pytest

from loadtest.funding import RUN_TAG_CHARS_MAX, AdminFunder


def test_a_run_tag_that_would_not_fit_the_key_is_refused_not_cut() -> None:
    AdminFunder("http://127.0.0.1:1", "token", "t" * RUN_TAG_CHARS_MAX)
    with pytest.raises(ValueError, match="run_tag"):
        AdminFunder("http://127.0.0.1:1", "token", "t" * (RUN_TAG_CHARS_MAX + 1))
    with pytest.raises(ValueError, match="run_tag"):
        AdminFunder("http://127.0.0.1:1", "token", "")

"""Which files /client/ serves (clients/serving.py): only the client's own, never one outside
its folders, whatever the path."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from clients.serving import (
    CONTENT_TYPES,
    HEADERS,
    MOUNTS,
    PACKAGE_DIR,
    WEB_DIR,
    inline_script_hashes,
    resolve_static,
)


def test_pages_scripts_and_the_sdk_resolve_to_their_files() -> None:
    assert resolve_static("") == PACKAGE_DIR / "web" / "index.html"
    assert resolve_static("director.html") == PACKAGE_DIR / "web" / "director.html"
    assert resolve_static("sdk/tablium.mjs") == PACKAGE_DIR / "js" / "src" / "tablium.mjs"
    assert resolve_static("vendor/msgpack/index.mjs") is not None


def test_paths_out_of_the_folders_or_of_unknown_kinds_resolve_to_nothing() -> None:
    for path in (
        "../serving.py",
        "sdk/../../serving.py",
        "sdk/../tablium.d.mts",
        "/etc/passwd",
        "..%2fserving.py",
        "views/../../serving.py",
        ".hidden.mjs",
        "sdk/table-state.d.mts",
        "index.html\x00.png",
        "sdk\\..\\..\\serving.py",
        "a" * 300 + ".mjs",
    ):
        assert resolve_static(path) is None, path


@given(
    st.text(max_size=80)
    | st.lists(
        st.sampled_from(
            [
                "..",
                ".",
                "sdk",
                "vendor",
                "web",
                "js",
                "src",
                "views",
                "app.mjs",
                "",
                "index.html",
                "~",
                "%2e",
            ]
        ),
        max_size=8,
    ).map("/".join)
)
def test_any_path_resolves_inside_a_mount_or_to_nothing(path: str) -> None:
    found = resolve_static(path)
    if found is not None:
        assert any(found.is_relative_to(folder) for _, folder in MOUNTS)
        assert found.suffix in CONTENT_TYPES
        assert found.is_file()


def test_pages_get_a_policy_that_allows_their_own_files_and_import_map_only() -> None:
    # The admin app's own answers forbid every script (default-src 'none'); the pages'
    # files carry their own policy, with the inline import map allowed by its hash.
    policy = HEADERS["Content-Security-Policy"]
    index = (WEB_DIR / "index.html").read_text()
    (import_map,) = inline_script_hashes(index)
    assert f"script-src 'self' {import_map}" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert policy.startswith("default-src 'none'")

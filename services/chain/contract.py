"""The contracts, compiled from contracts/*.vy by the vyper package.

The server and the tests compile from source, so what runs can never drift from what is
written; ``make contracts`` writes the same ABI and bytecode to contracts/build/ for deployment
tools (``python -m services.chain.contract contracts/build``). A compilation takes seconds, so
its output is kept in memory per process and on disk in contracts/build/cache/, under the
hash of the source and the compiler's version: a changed source or compiler is compiled
again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, final

import msgspec

CONTRACTS_DIR: Final = Path(__file__).resolve().parents[2] / "contracts"
CACHE_DIR: Final = CONTRACTS_DIR / "build" / "cache"
CASHIER: Final = "Cashier.vy"
TEST_TOKEN: Final = "test/TestToken.vy"
DEPOSITED_SIGNATURE: Final = "Deposited(address,address,bytes32,uint256)"


@final
class Compiled(msgspec.Struct, frozen=True):
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed deployment bytecode


@lru_cache(maxsize=8)
def compile_contract(relative_path: str) -> Compiled:
    """Compile ``contracts/<relative_path>`` (about a second the first time)."""
    source = (CONTRACTS_DIR / relative_path).read_text("utf-8")
    compiler = importlib.metadata.version("vyper")  # without importing it: ~0.5 s saved
    digest = hashlib.sha256(f"{compiler}\n{relative_path}\n{source}".encode()).hexdigest()
    cached = CACHE_DIR / f"{digest}.json"
    try:
        return msgspec.json.decode(cached.read_bytes(), type=Compiled)
    except (OSError, msgspec.DecodeError):
        pass
    import vyper

    out = vyper.compile_code(
        source, contract_path=relative_path, output_formats=["abi", "bytecode"]
    )
    compiled = Compiled(Path(relative_path).stem, out["abi"], out["bytecode"])
    try:  # a read-only checkout still works, compiling every time
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial_file = cached.with_suffix(f".{id(compiled)}.tmp")
        partial_file.write_bytes(msgspec.json.encode(compiled))
        partial_file.replace(cached)  # atomic: a concurrent reader sees all or nothing
    except OSError:
        pass
    return compiled


def write_artifacts(out_dir: Path, names: tuple[str, ...] = (CASHIER, TEST_TOKEN)) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in names:
        compiled = compile_contract(name)
        abi_path = out_dir / f"{compiled.name}.abi.json"
        bin_path = out_dir / f"{compiled.name}.bin"
        abi_path.write_text(json.dumps(compiled.abi, indent=1) + "\n", "utf-8")
        bin_path.write_text(compiled.bytecode + "\n", "utf-8")
        written += [abi_path, bin_path]
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m services.chain.contract OUT_DIR", file=sys.stderr)
        return 2
    for path in write_artifacts(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Token units <-> chips, deposit references and addresses: pure, exact, no I/O.

A rate is a fraction: ``chips`` chips for every ``units`` token units (``1/10000``: one chip
per 10,000 units, a cent of a 6-decimal stablecoin). Both directions round down, so the
house never credits or pays out more than the tokens are worth; what rounding leaves behind
stays in the cashier (docs/chain.md, "Rounding").
"""

from __future__ import annotations

import re
import secrets
from fractions import Fraction
from typing import Final, final

import msgspec
from eth_utils.address import to_checksum_address

from services.ledger import WalletError

UINT256_MAX: Final = 2**256 - 1
_REFERENCE = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ZERO_ADDRESS: Final = "0x" + "0" * 40


@final
class InvalidAddress(WalletError):
    code = "invalid_address"


@final
class Rate(msgspec.Struct, frozen=True):
    """``chips`` chips per ``units`` token units, in lowest terms."""

    chips: int
    units: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"1/10000"`` (chips/units) or ``"100"`` (chips per unit)."""
        try:
            value = Fraction(text.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"rate {text!r} is not a fraction such as 1/10000") from None
        if value <= 0:
            raise ValueError(f"rate {text!r} must be positive")
        return cls(value.numerator, value.denominator)

    def chips_for(self, units: int) -> int:
        """Chips credited for ``units`` received (rounded down)."""
        return units * self.chips // self.units

    def units_for(self, chips: int) -> int:
        """Token units paid for ``chips`` withdrawn (rounded down)."""
        return chips * self.units // self.chips

    def __str__(self) -> str:
        return f"{self.chips}/{self.units}"


def new_reference() -> str:
    """A player's deposit reference: 32 random bytes, as the contract's bytes32."""
    return "0x" + secrets.token_hex(32)


def is_reference(text: str) -> bool:
    return bool(_REFERENCE.match(text))


def parse_address(text: str) -> str:
    """A withdrawal address, checksummed; the zero address and malformed text are refused.

    A mixed-case address must carry a valid checksum (EIP-55): a typo is refused, not paid.
    """
    if not isinstance(text, str) or not _ADDRESS.match(text):
        raise InvalidAddress(f"{text!r} is not an address (0x and 40 hex digits)")
    checksummed = to_checksum_address(text)
    body = text[2:]
    if body != body.lower() and body != body.upper() and checksummed != text:
        raise InvalidAddress(f"{text!r} has a wrong checksum")
    if checksummed == ZERO_ADDRESS:
        raise InvalidAddress("the zero address burns what it receives")
    return checksummed

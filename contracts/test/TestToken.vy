# pragma version ~=0.4.3
"""
@title A minimal ERC-20 for tests
@notice Anyone may mint. Two test knobs: `fee_bps` keeps a fee on every transfer (a
        fee-on-transfer token, to check that the cashier credits what arrived), and
        `hook_target` makes the next transfer call out first with `hook_data` (a hostile
        token trying to re-enter the cashier); the hook fires once, and a failing hook call
        fails the transfer.
"""

from ethereum.ercs import IERC20

implements: IERC20

name: public(String[32])
symbol: public(String[8])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

fee_bps: public(uint256)
hook_target: public(address)
hook_data: public(Bytes[260])


@deploy
def __init__(name: String[32], symbol: String[8], decimals: uint8, fee_bps: uint256):
    assert fee_bps < 10000, "fee"
    self.name = name
    self.symbol = symbol
    self.decimals = decimals
    self.fee_bps = fee_bps


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount
    log IERC20.Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_hook(target: address, data: Bytes[260]):
    self.hook_target = target
    self.hook_data = data


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log IERC20.Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._move(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    self.allowance[sender][msg.sender] -= amount
    self._move(sender, receiver, amount)
    return True


@internal
def _move(sender: address, receiver: address, amount: uint256):
    target: address = self.hook_target
    if target != empty(address):
        self.hook_target = empty(address)
        raw_call(target, self.hook_data)
    fee: uint256 = amount * self.fee_bps // 10000
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount - fee
    self.totalSupply -= fee
    log IERC20.Transfer(sender=sender, receiver=receiver, value=amount - fee)

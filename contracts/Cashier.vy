# pragma version ~=0.4.3
"""
@title Tablium cashier
@notice Takes players' deposits and pays their withdrawals in batches, for one asset: an
        ERC-20 token, or the chain's native coin when TOKEN is the zero address.
@dev    Roles: the owner (a cold key) configures, unpauses, sweeps and hands over ownership;
        the operator (the server's hot key) pays batches and may pause in an emergency.
        Every state-changing entry point holds the contract's re-entrancy lock, and state is
        written before any outside call (checks, effects, interactions).
"""

from ethereum.ercs import IERC20

# Bound: one batch pays at most this many players (the server batches 50 by default).
MAX_BATCH: constant(uint256) = 100

event Deposited:
    token: indexed(address)  # the zero address for the native coin
    sender: indexed(address)
    reference: indexed(bytes32)  # the player's deposit reference (the server maps it)
    amount: uint256  # what this contract actually received

event BatchWithdrawn:
    batch_id: indexed(uint256)
    count: uint256
    total: uint256

event Paused:
    by: indexed(address)

event Unpaused:
    by: indexed(address)

event OperatorChanged:
    previous: indexed(address)
    operator: indexed(address)

event CapChanged:
    cap: uint256
    period: uint256

event OwnershipTransferStarted:
    owner: indexed(address)
    pending_owner: indexed(address)

event OwnershipTransferred:
    previous: indexed(address)
    owner: indexed(address)

event Swept:
    to: indexed(address)
    amount: uint256

TOKEN: public(immutable(address))

owner: public(address)
pending_owner: public(address)
operator: public(address)
paused: public(bool)

# At most withdrawal_cap leaves through batch_withdraw in one period of cap_period seconds
# (periods are block.timestamp // cap_period).
withdrawal_cap: public(uint256)
cap_period: public(uint256)
period_index: public(uint256)
period_paid: public(uint256)

batch_used: public(HashMap[uint256, bool])


@deploy
def __init__(token: address, operator: address, cap: uint256, cap_period: uint256):
    assert operator != empty(address), "no operator"
    assert cap_period > 0, "zero period"
    TOKEN = token
    self.owner = msg.sender
    self.operator = operator
    self.withdrawal_cap = cap
    self.cap_period = cap_period
    log OwnershipTransferred(previous=empty(address), owner=msg.sender)
    log OperatorChanged(previous=empty(address), operator=operator)
    log CapChanged(cap=cap, period=cap_period)


# -- deposits ------------------------------------------------------------------------------


@external
@nonreentrant
def deposit(amount: uint256, reference: bytes32):
    """
    @notice Pull `amount` of TOKEN from the sender (approved beforehand) for the player
            whose deposit reference is `reference`. A token that keeps a fee on transfer
            credits what arrived, not what was asked.
    """
    assert not self.paused, "paused"
    assert TOKEN != empty(address), "native cashier"
    assert amount > 0, "zero amount"
    before: uint256 = staticcall IERC20(TOKEN).balanceOf(self)
    assert extcall IERC20(TOKEN).transferFrom(msg.sender, self, amount, default_return_value=True), "transfer failed"
    received: uint256 = staticcall IERC20(TOKEN).balanceOf(self) - before
    assert received > 0, "nothing received"
    log Deposited(token=TOKEN, sender=msg.sender, reference=reference, amount=received)


@external
@payable
@nonreentrant
def deposit_native(reference: bytes32):
    """@notice Deposit the native coin sent with the call for `reference`."""
    assert not self.paused, "paused"
    assert TOKEN == empty(address), "token cashier"
    assert msg.value > 0, "zero amount"
    log Deposited(token=empty(address), sender=msg.sender, reference=reference, amount=msg.value)


@external
@payable
def __default__():
    # A plain transfer carries no reference, so it could credit nobody: only the owner's
    # top-ups of a native cashier are accepted.
    assert msg.sender == self.owner and TOKEN == empty(address), "use deposit_native"


# -- withdrawals ---------------------------------------------------------------------------


@external
@nonreentrant
def batch_withdraw(
    batch_id: uint256,
    recipients: DynArray[address, MAX_BATCH],
    amounts: DynArray[uint256, MAX_BATCH],
):
    """
    @notice Pay amounts[i] to recipients[i], all or nothing. Each batch_id pays once.
    """
    assert msg.sender == self.operator, "not operator"
    assert not self.paused, "paused"
    assert not self.batch_used[batch_id], "batch used"
    count: uint256 = len(recipients)
    assert count > 0 and count == len(amounts), "bad batch"
    self.batch_used[batch_id] = True
    total: uint256 = 0
    for amount: uint256 in amounts:
        total += amount
    self._spend(total)
    for i: uint256 in range(count, bound=MAX_BATCH):
        recipient: address = recipients[i]
        assert recipient != empty(address), "zero recipient"
        if TOKEN == empty(address):
            # The 2300-gas stipend: a recipient contract cannot do anything on receipt.
            send(recipient, amounts[i])
        else:
            assert extcall IERC20(TOKEN).transfer(recipient, amounts[i], default_return_value=True), "transfer failed"
    log BatchWithdrawn(batch_id=batch_id, count=count, total=total)


@internal
def _spend(total: uint256):
    index: uint256 = block.timestamp // self.cap_period
    if index != self.period_index:
        self.period_index = index
        self.period_paid = 0
    paid: uint256 = self.period_paid + total
    assert paid <= self.withdrawal_cap, "over cap"
    self.period_paid = paid


@view
@external
def cap_remaining() -> uint256:
    """@notice What batch_withdraw may still pay in the current period."""
    if block.timestamp // self.cap_period != self.period_index:
        return self.withdrawal_cap
    if self.period_paid >= self.withdrawal_cap:
        return 0
    return self.withdrawal_cap - self.period_paid


# -- administration ------------------------------------------------------------------------


@external
def pause():
    """@notice Stop deposits and withdrawals (owner, or the operator in an emergency)."""
    assert msg.sender == self.owner or msg.sender == self.operator, "not allowed"
    self.paused = True
    log Paused(by=msg.sender)


@external
def unpause():
    assert msg.sender == self.owner, "not owner"
    self.paused = False
    log Unpaused(by=msg.sender)


@external
def set_operator(operator: address):
    assert msg.sender == self.owner, "not owner"
    assert operator != empty(address), "no operator"
    log OperatorChanged(previous=self.operator, operator=operator)
    self.operator = operator


@external
def set_cap(cap: uint256, cap_period: uint256):
    assert msg.sender == self.owner, "not owner"
    assert cap_period > 0, "zero period"
    self.withdrawal_cap = cap
    if cap_period != self.cap_period:
        self.cap_period = cap_period
        self.period_index = block.timestamp // cap_period
        self.period_paid = 0
    log CapChanged(cap=cap, period=cap_period)


@external
def transfer_ownership(new_owner: address):
    """@notice First step of a hand-over: the new owner must call accept_ownership."""
    assert msg.sender == self.owner, "not owner"
    self.pending_owner = new_owner
    log OwnershipTransferStarted(owner=msg.sender, pending_owner=new_owner)


@external
def accept_ownership():
    assert msg.sender == self.pending_owner and msg.sender != empty(address), "not pending owner"
    log OwnershipTransferred(previous=self.owner, owner=msg.sender)
    self.owner = msg.sender
    self.pending_owner = empty(address)


@external
@nonreentrant
def sweep(to: address, amount: uint256):
    """@notice Move funds beyond what the hot wallet needs to cold storage (owner only)."""
    assert msg.sender == self.owner, "not owner"
    assert to != empty(address), "zero recipient"
    if TOKEN == empty(address):
        send(to, amount)
    else:
        assert extcall IERC20(TOKEN).transfer(to, amount, default_return_value=True), "transfer failed"
    log Swept(to=to, amount=amount)

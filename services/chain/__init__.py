"""The blockchain cashier: deposits and withdrawals through the Cashier contract.

- ``contract``: compiles contracts/*.vy with the vyper package (ABI and bytecode);
  ``deploy`` deploys them; ``devnode`` runs a local Anvil (tests, bench, trying it by hand).
- ``settings``: one chain's settings; ``checks``: the node and contract are those named.
- ``units``, ``fees``, ``confirmations``: pure rules (token units <-> chips, EIP-1559 fees,
  the confirmation line and what a reorganisation takes away).
- ``rpc``: the node, behind the ``ChainClient`` protocol (web3's sync provider in a worker
  thread; see docs/chain.md for why not the asyncio one); ``metrics``: what it reports.
- ``ledger_port``: the cashier's ledger moves; the one place the ledger's asset plugs in.
- ``watcher``: reads Deposited logs, credits them at the confirmation line, undoes what a
  reorganisation took away before that.
- ``cashier``: players' withdrawal requests and deposit references; staff actions.
- ``batcher``: pays queued withdrawals in batches, one transaction in flight per key.

docs/chain.md explains the contract, the rules and the operator's runbook.
"""

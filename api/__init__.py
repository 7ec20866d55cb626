"""The public HTTP API (/v1): players, partners and operators' tools, beside the websocket."""

"""Domain rules over storage: the wallet ledger (services/ledger.py, services/wallet.py)."""

"""pesabox: M-Pesa's API platform (a Daraja-compatible gateway, ledger and sandbox)."""

__version__ = "0.1.0"

"""The ledger: append-only double-entry accounts for HOURS and POINTS (modelled on
TigerBeetle's accounts and transfers), holds, point lots and expiry, tamper evidence."""

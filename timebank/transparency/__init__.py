"""The public transparency log: an append-only Merkle tree per ledger, signed checkpoints,
street offices as witnesses, proofs anyone can check, and the communities' notice boards."""

"""Errors of the transparency log: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import N_, Conflict, InvalidInput, NotFound


class LogInconsistent(Conflict):
    """The tree as stored no longer extends a checkpoint the deployment signed: signing
    it would bless a rewritten history, so nothing is signed."""

    code = "log_inconsistent"
    default_message = N_("The log is not consistent with the checkpoint signed before.")


class ProofBeyondTree(InvalidInput):
    code = "proof_beyond_tree"
    default_message = N_("That is beyond the log's size.")


class ProofRangeReversed(InvalidInput):
    code = "proof_range_reversed"
    default_message = N_("The older tree size must not be larger than the newer one.")


class EntryNotLogged(NotFound):
    code = "entry_not_logged"
    default_message = N_("That entry is not in the log yet.")


class EntryNotFound(NotFound):
    code = "entry_not_found"
    default_message = N_("That entry does not exist.")


class NoCheckpoint(NotFound):
    code = "no_checkpoint"
    default_message = N_("No checkpoint has been signed yet.")


class CheckpointNotFound(NotFound):
    code = "checkpoint_not_found"
    default_message = N_("That checkpoint does not exist.")


class MixedLedgers(InvalidInput):
    code = "mixed_ledgers"
    default_message = N_("One proof covers entries of one ledger only.")


class NotAStreetOffice(InvalidInput):
    code = "not_a_street_office"
    default_message = N_("Only a street office keeps a witness key.")


class WitnessKeyInvalid(InvalidInput):
    code = "witness_key_invalid"
    default_message = N_("That is not an Ed25519 public key (32 bytes, base64).")


class WitnessKeyTaken(Conflict):
    code = "witness_key_taken"
    default_message = N_("That key is already registered.")


class NoWitnessKey(Conflict):
    code = "no_witness_key"
    default_message = N_("This street office has no witness key yet.")


class CosignatureInvalid(InvalidInput):
    code = "cosignature_invalid"
    default_message = N_("The cosignature does not verify with the street office's key.")


class NotACommunity(NotFound):
    code = "not_a_community"
    default_message = N_("There is no community notice board here.")

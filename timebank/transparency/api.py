"""The transparency log over HTTP.

``/transparency/...``: public, no login, hashes and counts only: the newest signed
checkpoint (a C2SP note), the list of checkpoints, inclusion and consistency proofs.
Errors are problem+json like the API's.

``/api/v1/...``: admins sign a checkpoint now; a street office registers its witness key
and uploads cosignatures made in its browser.
"""

from __future__ import annotations

from flask import Response

from timebank.core import access
from timebank.core.access import Target, requires
from timebank.core.web import ApiBlueprint, ApiView
from timebank.transparency import operations as transparency
from timebank.transparency.schemas import (
    CheckpointListArgs,
    ConsistencyArgs,
    ConsistencySchema,
    CosignatureInSchema,
    CosignatureSchema,
    HeadSchema,
    InclusionArgs,
    InclusionSchema,
    LedgerArgs,
    PublishedCheckpointSchema,
    SignedSchema,
    WitnessKeyInSchema,
    WitnessKeySchema,
)

public = ApiBlueprint(
    "transparency_public", __name__, url_prefix="/transparency",
    description="The public transparency log: checkpoints and proofs, no login",
)  # fmt: skip
blp = ApiBlueprint(
    "transparency_api", __name__, url_prefix="/api/v1",
    description="Signing checkpoints; street offices' witness keys and cosignatures",
)  # fmt: skip


@public.after_request
def _anyone_may_read(response):
    # Verifiers elsewhere (another district, a journalist's script) read these too.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@public.route("/checkpoint")
class LatestCheckpoint(ApiView):
    @requires("transparency.view")
    @public.arguments(LedgerArgs, location="query")
    @public.response(200, content_type="text/plain", description="a C2SP signed checkpoint")
    def get(self, args):
        """The ledger's newest signed checkpoint (``?ledger=HOURS`` by default, or POINTS):
        origin, tree size, root, the deployment's signature and any street office's
        cosignature, as a C2SP signed note."""
        note = transparency.latest_published(args["ledger"]).note
        return Response(note, mimetype="text/plain", headers={"Cache-Control": "no-cache"})


@public.route("/checkpoints")
class Checkpoints(ApiView):
    @requires("transparency.view")
    @public.arguments(CheckpointListArgs, location="query")
    @public.response(200, PublishedCheckpointSchema(many=True))
    def get(self, args):
        """The ledger's signed checkpoints, largest first, with their cosignatures and the
        street offices' keys (``before=`` a tree size for older ones)."""
        found = transparency.list_checkpoints(
            args["ledger"], limit=args["limit"], before_size=args.get("before")
        )
        return transparency.published(found)


@public.route("/head")
class LogHead(ApiView):
    @requires("transparency.view")
    @public.arguments(LedgerArgs, location="query")
    @public.response(200, HeadSchema)
    def get(self, args):
        """The log as the service holds it now, not signed: its size and the root its stored
        tree gives. A verifier checks that it extends the newest signed checkpoint."""
        return transparency.current_head(args["ledger"])


@public.route("/proof/inclusion")
class InclusionProof(ApiView):
    @requires("transparency.view")
    @public.arguments(InclusionArgs, location="query")
    @public.response(200, InclusionSchema)
    def get(self, args):
        """Proofs that entries are in their ledger's log, against the signed checkpoint of
        ``size`` (default: the newest): ``?entry=12&entry=15``."""
        return transparency.inclusion_proofs(args["entry"], tree_size=args.get("size"))


@public.route("/proof/consistency")
class ConsistencyProof(ApiView):
    @requires("transparency.view")
    @public.arguments(ConsistencyArgs, location="query")
    @public.response(200, ConsistencySchema)
    def get(self, args):
        """The proof that the log's first ``from`` leaves are a prefix of its first ``to``."""
        proof = transparency.consistency_proof(args["ledger"], args["from_"], args["to"])
        return proof


# ---------------------------------------------------------------- signing and witnesses


@blp.route("/transparency/checkpoints")
class SignNow(ApiView):
    @requires("transparency.sign")
    @blp.response(200, SignedSchema)
    def post(self):
        """Append the final entries and sign a checkpoint of each ledger whose log grew
        (admins); 409 ``log_inconsistent`` if the log no longer extends the last one."""
        signed = transparency.sign_now(actor_id=access.current_actor().id, via="api")
        return {"signed": transparency.published(signed)}


def _street(unit_id: int) -> Target:
    return access.target_of("unit", unit_id)


@blp.route("/units/<int(max=2147483647):unit_id>/witness-keys")
class WitnessKeys(ApiView):
    @requires("transparency.witness", target=_street)
    @blp.response(200, WitnessKeySchema(many=True))
    def get(self, unit_id):
        """The street office's cosigning keys, newest first."""
        return transparency.witness_keys(unit_id)

    @requires("transparency.witness", target=_street)
    @blp.arguments(WitnessKeyInSchema)
    @blp.response(201, WitnessKeySchema)
    def post(self, data, unit_id):
        """Register the street office's Ed25519 public key; its private key stays with the
        office. 422 ``not_a_street_office`` for any other unit."""
        return transparency.register_witness_key(
            unit_id, data["public_key"], actor_id=access.current_actor().id
        )


@blp.route("/units/<int(max=2147483647):unit_id>/cosignatures")
class Cosignatures(ApiView):
    @requires("transparency.witness", target=_street)
    @blp.arguments(CosignatureInSchema)
    @blp.response(201, CosignatureSchema)
    def post(self, data, unit_id):
        """The street office's C2SP cosignature/v1 of a checkpoint, made with its own key;
        checked before it is kept (422 ``cosignature_invalid``)."""
        return transparency.add_cosignature(
            data["checkpoint_id"], unit_id, data["signature"], actor_id=access.current_actor().id
        )

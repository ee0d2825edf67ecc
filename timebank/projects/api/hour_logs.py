"""/api/v1: hour logs, their photos, and the organizers' approval queue."""

from __future__ import annotations

from flask import send_file

from timebank.core import access
from timebank.core.access import Target, requires
from timebank.core.errors import InvalidInput
from timebank.core.web import ApiView
from timebank.extensions import db
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.projects.api import blp
from timebank.projects.schemas import (
    DecisionsSchema,
    HourLogIdsSchema,
    HourLogPageSchema,
    HourLogQueueArgs,
    HourLogSchema,
    PhotoFileSchema,
    RejectHourLogsSchema,
)
from timebank.units import operations as units

LOG = "/hour-logs/<int(max=2147483647):log_id>"
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def log_member_target(log_id: int) -> Target:
    """A photo is added by the member who served (or their guardian)."""
    return Target(member=projects.get_hour_log(log_id).member_id)


@blp.route("/hour-logs")
class HourLogs(ApiView):
    @requires("me.projects")
    @blp.response(200, HourLogSchema(many=True))
    def get(self):
        """The caller's hour logs, the newest day first (at most 200)."""
        return projects.my_hour_logs(access.acting_member())

    @requires("hour_logs.log")
    @blp.arguments(HourLogSchema)
    @blp.response(201, HourLogSchema)
    def post(self, data):
        """Report a day's service on a project (``project_id``) or a small wish one took
        (``need_id``); a contact reports for a person its organization named
        (``member_id``). The minutes of a day stay within the project's schedule
        (422 ``over_schedule``, ``outside_schedule``). Add a photo with POST
        ``/hour-logs/{id}/photo``."""
        member, as_contact = access.acting_member(), False
        if data["member_id"] is not None and data["member_id"] != member.id:
            member, as_contact = people.get_member(data["member_id"]), True
        return projects.log_hours(
            member=member,
            logged_by=access.current_actor(),
            as_contact=as_contact,
            project=projects.get_project(data["project_id"]) if data["project_id"] else None,
            need=projects.get_need(data["need_id"]) if data["need_id"] else None,
            served_on=data["served_on"],
            minutes=data["minutes"],
            description=data["description"],
        )


@blp.route(LOG)
class HourLogById(ApiView):
    @requires("hour_logs.view", target=projects.hour_log_target)
    @blp.response(200, HourLogSchema)
    def get(self, log_id):
        """One hour log: for the member who served, or organizers in scope."""
        return projects.get_hour_log(log_id)


@blp.route(f"{LOG}/photo")
class HourLogPhoto(ApiView):
    @requires("hour_logs.view", target=projects.hour_log_target)
    @blp.doc(
        responses={
            "200": {
                "description": "the photo",
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES
                },
            }
        }
    )
    def get(self, log_id):
        """The log's photo (JPEG, PNG or WebP); 404 ``photo_not_found`` without one."""
        log = projects.get_hour_log(log_id)
        return send_file(projects.photo_path(log.photo_name), mimetype=log.photo_type)

    @requires("hour_logs.log", target=log_member_target)
    @blp.arguments(PhotoFileSchema, location="files")
    @blp.response(200, HourLogSchema)
    def post(self, files, log_id):
        """Add or replace the photo of a log that waits for a decision (multipart
        ``file``): JPEG, PNG or WebP, checked by its bytes; 413 ``photo_too_large``."""
        upload = files["file"]
        if not hasattr(upload, "read"):
            raise InvalidInput("Send the photo as a file upload named 'file'.")
        data = upload.read(projects.photos.max_bytes() + 1)
        return projects.attach_photo(projects.get_hour_log(log_id), data)


def _outcome(decisions) -> dict:
    return {
        "decided": decisions.decided,
        "refused": [
            {"id": log_id, "code": error.code, "detail": error.message}
            for log_id, error in decisions.refused
        ],
    }


@blp.route("/hour-logs/approve")
class ApproveHourLogs(ApiView):
    @requires("hour_logs.approve")
    @blp.arguments(HourLogIdsSchema)
    @blp.response(200, DecisionsSchema)
    def post(self, data):
        """Approve hour logs (up to 200): the valid ones are approved and credited (HOURS
        and POINTS, key ``hourlog:<id>``; approving again credits nothing more), the
        others come back in ``refused`` with their code (``four_eyes`` for one's own,
        ``hour_log_decided``, ``hour_log_not_found``). 403 if any lies outside the
        caller's scope."""
        actor = access.current_actor()
        return _outcome(projects.approve_hour_logs(data["ids"], actor=actor))


@blp.route("/hour-logs/reject")
class RejectHourLogs(ApiView):
    @requires("hour_logs.approve")
    @blp.arguments(RejectHourLogsSchema)
    @blp.response(200, DecisionsSchema)
    def post(self, data):
        """Reject hour logs with a reason; nothing is credited. Approved ones are refused
        (correct them in the ledger)."""
        actor = access.current_actor()
        return _outcome(projects.reject_hour_logs(data["ids"], actor=actor, reason=data["reason"]))


@blp.route("/units/<int(max=2147483647):unit_id>/hour-logs")
class HourLogQueue(ApiView):
    @requires("hour_logs.approve", target=units.unit_target)
    @blp.arguments(HourLogQueueArgs, location="query")
    @blp.response(200, HourLogPageSchema)
    def get(self, args, unit_id):
        """The approval queue of the unit's subtree (``status=pending`` by default),
        oldest day first."""
        query = projects.hour_logs_select(access.subtree_select(unit_id), status=args["status"])
        result = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False)
        return {
            "items": result.items,
            "page": args["page"],
            "per_page": args["per_page"],
            "total": result.total,
        }

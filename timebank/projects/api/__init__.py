"""/api/v1: the three lists. Needs and resources (needs.py), projects, claims and
assignments (projects.py), hour logs and their approval (hour_logs.py), all on one
blueprint."""

from __future__ import annotations

from timebank.core.web import ApiBlueprint

blp = ApiBlueprint(
    "projects_api",
    __name__,
    url_prefix="/api/v1",
    description="The three lists: needs, resources, service projects, hour logs",
)

from timebank.projects.api import hour_logs, needs, projects  # noqa: E402, F401 - routes

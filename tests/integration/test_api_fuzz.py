"""Schemathesis fuzzes every documented operation: no input may cause a server error, and
every answer has a documented status, content type and shape (nullable fields say so)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from timebank import create_app

# The spec does not depend on the database: load it once from an app that never connects.
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
)


@pytest.fixture
def admin_headers(district, make_member, token_for):
    admin = make_member(district["street"], roles=("admin",))
    make_member(district["building_a"])
    return token_for(admin)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case, app, admin_headers):
    response = case.call(app=app, headers=admin_headers)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )

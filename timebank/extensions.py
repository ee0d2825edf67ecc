"""Extension objects, created here and initialised in create_app."""

from __future__ import annotations

import http

from flask import render_template, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from timebank.core.db import Base
from timebank.core.errors import problem_from_http_exception, wants_problem
from timebank.core.schemas import ProblemSchema

PROBLEM_JSON = "application/problem+json"


class Api(SmorestApi):
    """flask-smorest with the project's one error shape.

    flask-smorest registers its handler for every HTTPException: API paths get
    problem+json (keeping the Allow header on 405), pages get an HTML error page. The
    OpenAPI document describes every error response as problem+json.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def handle_http_exception(self, error):
        if wants_problem(request.path):
            return problem_from_http_exception(error)
        code = error.code or 500
        return render_template("error.html", status=code, error=error), code


# Objects stay readable after the edge commits: dumping a response must not open a new
# transaction (on SQLite every transaction takes the write lock).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
api = Api()
#: storage and strategy of the throttles (core/throttle.py); no limit of its own on routes
limiter = Limiter(key_func=get_remote_address, default_limits=[])

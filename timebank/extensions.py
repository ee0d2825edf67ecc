"""Extension objects, created here and initialised in create_app."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api as SmorestApi
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from timebank.core.db import Base
from timebank.core.errors import problem_from_http_exception


class Api(SmorestApi):
    """flask-smorest with the project's one error shape.

    flask-smorest registers its handler for every HTTPException: API paths get
    problem+json (keeping the Allow header on 405), pages get an HTML error page.
    """

    def handle_http_exception(self, error):
        if request.path.startswith("/api/"):
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

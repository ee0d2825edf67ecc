"""The ceiling for bench/http.py: plain Flask, no timebank, on the same database.

``GET /json``: a trivial JSON body. ``GET /read``: one indexed read of ``members`` (by
primary key, a different row each time) through a SQLAlchemy Core connection pool,
the least any endpoint that looks a member up must do. Served by gunicorn like timebank:

    BENCH_DATABASE_URL=... gunicorn -w 4 'bench._plain_app:create_app()'
"""

from __future__ import annotations

import itertools
import os

import sqlalchemy as sa
from flask import Flask, jsonify


def create_app() -> Flask:
    app = Flask(__name__)
    engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"], pool_pre_ping=True)
    ids = sa.select(sa.func.min(sa.text("id")), sa.func.max(sa.text("id"))).select_from(
        sa.table("members")
    )
    with engine.connect() as connection:
        low, high = connection.execute(ids).one()
    counter = itertools.cycle(range(low, high + 1))
    query = sa.text("SELECT id, name FROM members WHERE id = :id")

    @app.get("/json")
    def trivial():
        return jsonify(ok=True)

    @app.get("/read")
    def one_read():
        with engine.connect() as connection:
            row = connection.execute(query, {"id": next(counter)}).one()
        return jsonify(id=row.id, name=row.name)

    return app

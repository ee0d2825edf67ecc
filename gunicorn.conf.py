"""gunicorn's settings for timebank. gunicorn reads this file from the directory it starts
in (the README's commands start in the project's root), or from ``--config``."""

import gc


def post_worker_init(worker) -> None:
    """Hide what the app built while loading from the garbage collector.

    Loading builds about 200,000 long-lived objects (modules, mappers, schemas,
    translations). Python's collector walks them again at every full collection, which
    costs a worker 5-13% of the instructions of a request in steady traffic (counted
    with callgrind: a check-in 5%, GET /readyz 13%) and a long pause when it runs.
    Frozen, they are never walked again: they live as long as the worker anyway.
    Garbage made while loading is collected first.
    """
    gc.collect()
    gc.freeze()

"""gunicorn.conf.py: the settings gunicorn reads when started in the project's root."""

import gc
import runpy
import subprocess
import sys
from pathlib import Path


def test_gunicorn_reads_the_projects_settings_from_its_root(project_root):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    shown = subprocess.run(
        [str(gunicorn), "--print-config", "timebank:create_app()"],
        cwd=project_root, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    settings = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in shown.splitlines())
    )
    assert settings["config"] == "./gunicorn.conf.py"
    assert settings["post_worker_init"] == "<post_worker_init()>"


def test_a_loaded_worker_hides_what_it_built_from_the_collector(project_root):
    hook = runpy.run_path(str(project_root / "gunicorn.conf.py"))["post_worker_init"]
    built_while_loading = [[n] for n in range(1000)]  # lists: objects the collector tracks
    assert gc.get_freeze_count() == 0
    try:
        hook(None)
        assert gc.get_freeze_count() >= len(built_while_loading)
        assert all(gc.is_tracked(item) for item in built_while_loading)
        gc.collect()
        assert gc.get_freeze_count() >= len(built_while_loading)  # a collection walks none
    finally:
        gc.unfreeze()

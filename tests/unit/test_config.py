import pytest

from timebank.config import ConfigError, load_config
from timebank.core.signing import generate_seed


def test_production_refuses_a_missing_secret(monkeypatch):
    monkeypatch.setenv("TIMEBANK_ENV", "production")
    monkeypatch.setenv("TIMEBANK_SIGNING_KEY", generate_seed())
    monkeypatch.delenv("TIMEBANK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="TIMEBANK_SECRET_KEY"):
        load_config()
    monkeypatch.setenv("TIMEBANK_SECRET_KEY", "dev-only-insecure-secret-key")
    with pytest.raises(ConfigError):
        load_config()
    monkeypatch.setenv("TIMEBANK_SECRET_KEY", "a-real-secret-from-the-environment")
    assert load_config()["SECRET_KEY"] == "a-real-secret-from-the-environment"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIMEBANK_ENV", "development")
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("TIMEBANK_DEFAULT_LOCALE", "en")
    config = load_config()
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["BABEL_DEFAULT_LOCALE"] == "en"
    monkeypatch.setenv("TIMEBANK_ENV", "staging")
    with pytest.raises(ConfigError):
        load_config()


def test_readme_documents_every_setting(project_root):
    from timebank.config import SETTINGS

    readme = (project_root / "README.md").read_text()
    for setting in SETTINGS:
        assert setting.name in readme, setting.name

"""Configuration read from environment variables, with safe development defaults."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _database_url() -> str:
    """The database URL: DATABASE_URL, or an SQLite file under instance/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # Hosting platforms still hand out the old scheme; SQLAlchemy 2 wants the driver named.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return f"sqlite:///{INSTANCE / 'competency.db'}"


def _secret_key() -> str | None:
    """SECRET_KEY from the environment, else the key `make run` generated into instance/secret_key, else None
    (create_app then refuses to start outside debug and testing)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = INSTANCE / "secret_key"
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


class Config:
    """Settings for running the app; every value can be overridden from the environment."""

    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = os.environ.get("COMPETENCY_DEFAULT_LOCALE", "zh")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "competency" / "translations")
    LANGUAGES = ("zh", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    PAGE_SIZE = 25
    PROBATION_MONTHS = int(os.environ.get("COMPETENCY_PROBATION_MONTHS", "3"))
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_MINUTES = 15
    LOGIN_LOCK_MINUTES = 15
    SEEDS_DIR = str(ROOT / "seeds")


class TestingConfig(Config):
    """Settings for the test suite: CSRF off unless a test turns it on, fast hashing."""

    TESTING = True
    BABEL_DEFAULT_LOCALE = "en"
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SERVER_NAME = None
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

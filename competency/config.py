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


def files_dir(app) -> str:
    """The folder of uploads waiting to be imported and of finished exports (FILES_DIR, else the instance folder)."""
    return app.config.get("FILES_DIR") or app.instance_path


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
    # The bank's time zone (an IANA name): times are stored in UTC and shown, filtered and exported in this zone.
    TIMEZONE = os.environ.get("COMPETENCY_TIMEZONE", "Asia/Shanghai")
    PROBATION_MONTHS = int(os.environ.get("COMPETENCY_PROBATION_MONTHS", "3"))
    SEEDS_DIR = str(ROOT / "seeds")
    # Sign-in throttling (Flask-Limiter): on Redis when REDIS_URL is set (shared by every server), else in memory.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Sign-in attempts allowed per client address; per account and address (growing waits); per account. A browser
    # that signed in to the account before is held only by the per account-and-address limit.
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("COMPETENCY_LOGIN_LIMIT_ADDRESS", "30 per minute;300 per hour")
    LOGIN_LIMIT_PER_PAIR = "5 per minute;10 per 10 minutes;20 per hour"
    LOGIN_LIMIT_PER_IDENTIFIER = "50 per hour;200 per day"
    # "Forgot password" requests per account (and per client address, as sign-in).
    RESET_LIMIT_PER_IDENTIFIER = "3 per 15 minutes;10 per day"
    # Reverse proxies in front of the app (X-Forwarded-For is trusted that many hops deep).
    PROXY_HOPS = int(os.environ.get("COMPETENCY_PROXY_HOPS", "0"))
    # Sessions end after this much inactivity, and in any case after this long.
    IDLE_TIMEOUT_MINUTES = int(os.environ.get("COMPETENCY_IDLE_MINUTES", "30"))
    SESSION_LIFETIME_HOURS = int(os.environ.get("COMPETENCY_SESSION_HOURS", "12"))
    # Two-factor sign-in (TOTP) is required for hr and admin; COMPETENCY_2FA_ALL=1 requires it of everyone.
    TWO_FACTOR_ALL = os.environ.get("COMPETENCY_2FA_ALL", "0") == "1"
    # LDAP / Active Directory sign-in (off unless LDAP_URL is set); local accounts stay for break-glass.
    LDAP_URL = os.environ.get("LDAP_URL")
    LDAP_BIND_DN_TEMPLATE = os.environ.get("LDAP_BIND_DN_TEMPLATE")  # e.g. uid={username},ou=people,dc=bank,dc=cn
    LDAP_SEARCH_BASE = os.environ.get("LDAP_SEARCH_BASE")            # or search: base, filter, service account
    LDAP_SEARCH_FILTER = os.environ.get("LDAP_SEARCH_FILTER", "(uid={username})")
    LDAP_BIND_DN = os.environ.get("LDAP_BIND_DN")
    LDAP_BIND_PASSWORD = os.environ.get("LDAP_BIND_PASSWORD")
    LDAP_STAFF_NO_ATTRIBUTE = os.environ.get("LDAP_STAFF_NO_ATTRIBUTE", "uid")
    LDAP_EMAIL_ATTRIBUTE = os.environ.get("LDAP_EMAIL_ATTRIBUTE", "mail")
    LDAP_GROUP_ROLES = os.environ.get("LDAP_GROUP_ROLES", "")        # "<group DN>=<role>;…"
    LDAP_TIMEOUT_SECONDS = int(os.environ.get("LDAP_TIMEOUT_SECONDS", "5"))
    # Background jobs (Huey): on Redis when REDIS_URL is set, else an SQLite file (COMPETENCY_JOBS_DB, default
    # instance/jobs.sqlite3). COMPETENCY_JOBS_WORKER: "thread" runs them in a thread of each web process (the
    # default: nothing else to start), "external" leaves them to `flask jobs worker`.
    JOBS_REDIS_URL = REDIS_URL
    JOBS_DB = os.environ.get("COMPETENCY_JOBS_DB")
    JOBS_WORKER = os.environ.get("COMPETENCY_JOBS_WORKER", "thread")
    JOBS_THREADS = int(os.environ.get("COMPETENCY_JOBS_THREADS", "1"))
    # Uploads waiting to be imported and finished exports: a folder every web server and worker sees (on several
    # machines, a shared volume); by default the instance folder.
    FILES_DIR = os.environ.get("COMPETENCY_FILES_DIR")
    # Exports of more rows than this run as a background job and are downloaded when ready.
    EXPORT_JOB_ROWS = int(os.environ.get("COMPETENCY_EXPORT_JOB_ROWS", "50000"))
    # Requests allowed per API token (limits syntax); beyond it, 429 with Retry-After.
    API_RATE_LIMIT = os.environ.get("COMPETENCY_API_RATE_LIMIT", "600 per minute;20000 per hour")
    # E-mail (Flask-Mailman over SMTP): on when MAIL_SERVER is set; without it nothing is queued and only the in-app
    # inbox tells people. Sent by `flask notify run` (never inside a request); links in e-mails start with
    # APP_BASE_URL.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Competency <competency@localhost>")
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "30"))
    MAIL_BACKEND = "smtp"
    MAIL_SUBJECT_PREFIX = os.environ.get("MAIL_SUBJECT_PREFIX", "")
    MAIL_MAX_ATTEMPTS = int(os.environ.get("COMPETENCY_MAIL_MAX_ATTEMPTS", "5"))
    MAIL_KEEP_DAYS = 30
    APP_BASE_URL = os.environ.get("APP_BASE_URL", "http://127.0.0.1:5000")
    NOTIFICATION_KEEP_DAYS = 365
    # The in-process timer that runs `notify run` on the job consumer (COMPETENCY_JOBS_WORKER=thread or a worker).
    NOTIFY_EVERY_MINUTES = int(os.environ.get("COMPETENCY_NOTIFY_EVERY_MINUTES", "10"))


class TestingConfig(Config):
    """Settings for the test suite: CSRF off unless a test turns it on, fast hashing."""

    TESTING = True
    BABEL_DEFAULT_LOCALE = "en"
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SERVER_NAME = None
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    RATELIMIT_ENABLED = False  # the throttling tests turn it on
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_WORKER = "immediate"  # jobs run inside the request that starts them; the job tests start real workers
    JOBS_REDIS_URL = None

"""Competency: KSA assessments, training credits and grade review for bank customer managers."""
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI and error handlers. No I/O."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    from .config import Config

    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if app.config["PROXY_HOPS"]:  # behind nginx: the client's address comes from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"])

    from . import extensions, handlers, i18n, navigation, security

    extensions.sqlite_synchronous()  # a mistyped SQLITE_SYNCHRONOUS stops the start, not the first query
    extensions.db.init_app(app)
    with app.app_context():
        for engine in extensions.db.engines.values():
            extensions.end_unwritten_transactions_with_commit(engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(ROOT / "migrations"))
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    extensions.mail.init_app(app)
    app.after_request(extensions.retry_after_only_on_refusals)  # runs after the limiter's (the later-registered first)
    with app.app_context():  # the limiter reads the app's RATELIMIT_ENABLED
        extensions.limiter.init_app(app)
    i18n.init_app(app)
    navigation.init_app(app)
    security.init_app(app)
    handlers.init_app(app)  # before the blueprints: it bounds the `<int:…>` URL converter their routes use

    from .admin import bp as admin_bp
    from .analytics import bp as analytics_bp
    from .appeals import bp as appeals_bp
    from .assessments import bp as assessments_bp
    from .auth import bp as auth_bp
    from .cycles import bp as cycles_bp
    from .imports import bp as imports_bp
    from .jobs import bp as jobs_bp
    from .ksa import bp as ksa_bp
    from .main import bp as main_bp
    from .notifications import bp as notifications_bp
    from .org import bp as org_bp
    from .review import bp as review_bp
    from .training import bp as training_bp

    for blueprint in (auth_bp, main_bp, org_bp, admin_bp, imports_bp, ksa_bp, cycles_bp, assessments_bp,
                      training_bp, review_bp, appeals_bp, analytics_bp, jobs_bp, notifications_bp):
        app.register_blueprint(blueprint)

    from . import api

    api.init_app(app)

    from . import cli
    from .services import background, grades, jobs  # noqa: F401 (background registers the kinds of job)

    jobs.init_app(app)
    cli.init_app(app)
    app.before_request(grades.apply_due_once_a_day)  # grade changes take effect on their date, cron or not
    return app

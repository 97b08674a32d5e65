"""Engine set-up per backend: SQLite in WAL mode with a busy timeout, so concurrent requests wait
for the write lock instead of failing with "database is locked"."""
from sqlalchemy import event


def configure_engine_events(app):
    """Install connection hooks on this app's engine."""
    from chathub.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

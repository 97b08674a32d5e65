"""Checks behind `/api/health`: the database's reachability and response time."""
import time

from sqlalchemy import text

from chathub import __version__
from chathub.extensions import db

STARTED_AT = time.monotonic()


def database_status():
    """`{"status": "healthy"|"unhealthy", "response_time_ms": float}` for the database."""
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        status = "healthy"
    except Exception:  # noqa: BLE001 - any failure to reach the database means unhealthy
        db.session.rollback()
        status = "unhealthy"
    return {"status": status, "response_time_ms": round((time.perf_counter() - started) * 1000, 2)}


def health_report():
    """The whole health answer and whether it is healthy."""
    database = database_status()
    healthy = database["status"] == "healthy"
    return healthy, {
        "status": "healthy" if healthy else "unhealthy",
        "message": "AI API服务运行正常" if healthy else "Database unavailable",
        "version": __version__,
        "uptime": round(time.monotonic() - STARTED_AT, 1),
        "components": {"database": database},
    }

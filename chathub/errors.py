"""The one error type (`ApiError`) and the handlers that render every error as the envelope.

Envelope: {"success": false, "error": message, "code": CODE, "details": {...}?}
"""
import logging

from flask import jsonify
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "VALIDATION_ERROR",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "AI_API_ERROR",
    503: "SERVICE_UNAVAILABLE",
    504: "UPSTREAM_TIMEOUT",
}


class ApiError(Exception):
    """An error a client should see: HTTP status, stable code, human message, optional details."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_dict(self):
        """The envelope body."""
        body = {"success": False, "error": self.message, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


def not_found(what="Resource", code="NOT_FOUND"):
    """A 404 ApiError for a missing (or not visible) resource."""
    return ApiError(404, code, f"{what} not found")


def validation_error(field, message):
    """A 400 VALIDATION_ERROR naming one field."""
    return ApiError(400, "VALIDATION_ERROR", f"Invalid {field}: {message}", {field: [message]})


def flatten_messages(messages, prefix=""):
    """webargs/marshmallow's nested error dict as {"a.b": ["msg", ...]}."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_messages(value, name))
            else:
                flat[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    else:
        flat[prefix or "_schema"] = [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
    return flat


def validation_details(exc):
    """Per-field details from a webargs validation error, without the location level."""
    messages = getattr(exc, "data", {}).get("messages", {}) if getattr(exc, "data", None) else {}
    merged = {}
    for location_errors in messages.values():
        merged.update(flatten_messages(location_errors))
    return merged


def render(error):
    """A Flask response for an ApiError."""
    response = jsonify(error.to_dict())
    response.status_code = error.status
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


def from_http_exception(exc):
    """Translate Werkzeug/flask-smorest HTTP exceptions into an ApiError."""
    status = exc.code or 500
    if status in (400, 422) and getattr(exc, "data", None) and "messages" in exc.data:
        details = validation_details(exc)
        fields = ", ".join(sorted(details)) or "request"
        return ApiError(400, "VALIDATION_ERROR", f"Invalid request: {fields}", details)
    code = HTTP_CODES.get(status, "ERROR")
    message = exc.description if status < 500 else "Internal server error"
    if status == 400 and "JSON" in (message or ""):
        message = "Malformed JSON body"
    if status == 413:
        message = "Request body too large"
    if status == 429:
        message = f"Rate limit exceeded: {exc.description}"
    headers = {}
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return ApiError(status, code, message or code, headers=headers)


def register_error_handlers(app):
    """Route every exception through one envelope renderer."""

    @app.errorhandler(ApiError)
    def handle_api_error(error):
        return render(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc):
        error = from_http_exception(exc)
        response = render(error)
        if exc.code == 429 and getattr(exc, "response", None) is not None:
            for name in ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
                if name in exc.response.headers:
                    response.headers[name] = exc.response.headers[name]
        return response

    @app.errorhandler(IntegrityError)
    def handle_integrity(exc):
        from chathub.extensions import db

        db.session.rollback()
        log.warning("integrity error: %s", type(exc.orig).__name__)
        return render(ApiError(409, "CONFLICT", "The request conflicts with existing data"))

    @app.errorhandler(DataError)
    def handle_data_error(exc):
        from chathub.extensions import db

        db.session.rollback()
        log.warning("data error: %s", type(exc.orig).__name__)
        return render(ApiError(400, "VALIDATION_ERROR", "A value is out of range or malformed"))

    @app.errorhandler(OperationalError)
    def handle_db_down(exc):
        from chathub.extensions import db

        db.session.rollback()
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return render(ApiError(503, "SERVICE_UNAVAILABLE", "The database is unavailable, try again shortly"))

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        log.exception("unhandled error")
        return render(ApiError(500, "INTERNAL_ERROR", "Internal server error"))

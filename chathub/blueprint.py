"""ChatHub's flask-smorest Blueprint: validation failures are 400 (not 422), documented with our envelope."""
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.arguments import ArgumentsMixin
from webargs.flaskparser import FlaskParser


class ChatHubParser(FlaskParser):
    """webargs parser whose validation status is 400 VALIDATION_ERROR."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    """A resource blueprint; `doc_errors` documents the error envelope for the given statuses."""

    ARGUMENTS_PARSER = ChatHubParser()

    def doc_errors(self, *statuses):
        """Decorator: document these error statuses with the envelope schema."""
        from chathub.schemas import ErrorSchema

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, schema=ErrorSchema, description=STATUS_TEXT.get(status, "Error"))(func)
            return func

        return decorator


STATUS_TEXT = {
    400: "Invalid input (VALIDATION_ERROR) or a rule refused it",
    401: "Not signed in, or the token is invalid, expired or revoked",
    403: "Signed in but not allowed (FORBIDDEN, ACCOUNT_DISABLED)",
    404: "Not found (or not yours)",
    409: "Conflicts with existing data",
    413: "Body too large",
    429: "Rate limited (RATE_LIMITED); see Retry-After",
    502: "The upstream model provider failed (AI_API_ERROR)",
    503: "A required service is unavailable",
    504: "The upstream model provider timed out (UPSTREAM_TIMEOUT)",
}

__all__ = ["Blueprint", "ArgumentsMixin"]

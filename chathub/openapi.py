"""OpenAPI extras: our error envelope as the error schema, security schemes, 429 on every operation."""
from apispec import BasePlugin


class EnvelopeResponsesPlugin(BasePlugin):
    """Every operation may be rate limited (429); validation failures are 400 with the envelope."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("429", "TOO_MANY_REQUESTS")
            if "{" in (path or ""):
                responses.setdefault("404", "NOT_FOUND")
            responses.setdefault("500", "INTERNAL_SERVER_ERROR")


def configure_spec(api):
    """Register security schemes and the envelope plugin on flask-smorest's spec."""
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.spec.components.security_scheme(
        "cookieAuth", {"type": "apiKey", "in": "cookie", "name": "access_token_cookie"}
    )
    plugin = EnvelopeResponsesPlugin()
    plugin.init_spec(api.spec)
    api.spec.plugins.append(plugin)

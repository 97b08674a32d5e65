"""ChatHub's flask-smorest Blueprint: validation failures are 400 (not 422), a required JSON body must be a
JSON object, and ids in paths fit the database's integer column."""
from functools import wraps

from flask import request
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from chathub.errors import ApiError

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER; larger ids cannot exist, so they are plain 404s


class ChatHubParser(FlaskParser):
    """webargs parser whose validation status is 400 VALIDATION_ERROR."""

    DEFAULT_VALIDATION_STATUS = 400


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` that only matches ids a table can hold (no overflow errors deeper down)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def require_json_object(view):
    """Refuse a request whose body is missing, not JSON, or not a JSON object, with a 400 envelope."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            message = "Malformed JSON body" if request.get_data(cache=True) else "A JSON object body is required"
            raise ApiError(400, "VALIDATION_ERROR", message, {"_body": [message]})
        return view(*args, **kwargs)

    return wrapper


class Blueprint(SmorestBlueprint):
    """A resource blueprint."""

    ARGUMENTS_PARSER = ChatHubParser()

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        """flask-smorest's `arguments`; a required JSON body must be present and be an object."""
        decorator = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return decorator
        return lambda view: require_json_object(decorator(view))

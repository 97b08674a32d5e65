"""ChatHub's flask-smorest Blueprint: validation failures are 400 (not 422), a required JSON body must be a
JSON object, and ids in paths fit the database's integer column."""
from functools import wraps

from flask import request
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from chathub.errors import ApiError
from chathub.schemas import storable

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER; larger ids cannot exist, so they are plain 404s


class ChatHubParser(FlaskParser):
    """webargs parser: validation failures are 400 VALIDATION_ERROR, and text is always storable
    (NUL characters dropped from JSON strings and query arguments; lone surrogates refused)."""

    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):
        """The JSON body with unstorable text handled (see `storable`)."""
        data = super().load_json(req, schema)
        problems = {}
        data = storable(data, "", problems)
        if problems:
            raise ApiError(400, "VALIDATION_ERROR", f"Invalid text in: {', '.join(sorted(problems))}", problems)
        return data

    def load_querystring(self, req, schema):
        """Query arguments with NUL characters dropped, like JSON text."""
        if not any("\x00" in key or "\x00" in value for key, value in req.args.items(multi=True)):
            return super().load_querystring(req, schema)
        cleaned = MultiDict(
            (key.replace("\x00", ""), value.replace("\x00", "")) for key, value in req.args.items(multi=True)
        )
        return self._makeproxy(cleaned, schema)


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` that only matches ids a table can hold (no overflow errors deeper down)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def refuse_nul_in_path():
    """before_request: a NUL in the path can match no stored id (and PostgreSQL refuses it): 404."""
    if "\x00" in request.path:
        raise ApiError(404, "NOT_FOUND", "Resource not found")


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

"""The Flask extensions, created unbound here and bound to the app in `create_app`."""
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from chathub.ratelimit import default_limit, rate_limit_key
from chathub.schemas import ErrorSchema


class ChatHubApi(Api):
    """flask-smorest's Api documenting errors with ChatHub's envelope."""

    ERROR_SCHEMA = ErrorSchema


class Base(DeclarativeBase):
    """Declarative base for every ChatHub table."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
limiter = Limiter(key_func=rate_limit_key, default_limits=[default_limit])
cors = CORS()
api = ChatHubApi()

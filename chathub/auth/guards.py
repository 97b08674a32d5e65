"""Who is calling: JWT (Bearer header or HttpOnly cookie) or the development demo token.

`auth_required` / `admin_required` put the caller in `g.user`; services get plain ids from views.
"""
from functools import wraps

from flask import current_app, g, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from flask_smorest import Blueprint as SmorestBlueprint

from chathub.errors import ApiError
from chathub.extensions import db
from chathub.ratelimit import JWT_VERIFIED
from chathub.users.models import User

DEMO_USERNAME = "demo"


def demo_token_user():
    """The demo user when the request carries the configured demo token (never in production)."""
    token = current_app.config.get("CHATHUB_DEMO_TOKEN")
    if not token or current_app.config["CHATHUB_ENV"] == "production":
        return None
    if request.headers.get("Authorization", "") != f"Bearer {token}":
        return None
    from chathub.users.service import ensure_demo_user

    return ensure_demo_user()


def load_token_user():
    """The user of the verified JWT of this request, enforcing account state and token version."""
    claims = get_jwt()
    user = db.session.get(User, int(claims["sub"]))
    if user is None or user.deleted_at is not None:
        raise ApiError(401, "UNAUTHORIZED", "This account no longer exists")
    if not user.is_active:
        raise ApiError(403, "ACCOUNT_DISABLED", "This account is disabled")
    if claims.get("ver", 0) != user.token_version:
        raise ApiError(401, "UNAUTHORIZED", "Token has been revoked")
    return user


def authenticate(optional=False):
    """Set `g.user` from the request's credential; None (optional) or 401 when there is none."""
    user = demo_token_user()
    g.demo = user is not None
    if user is None:
        if not request.environ.get(JWT_VERIFIED):  # else the rate limiter verified this request's token already
            if optional and not verify_jwt_in_request(optional=True):
                g.user = None
                return None
            verify_jwt_in_request()
        user = load_token_user()
    g.user = user
    return user


SECURITY = [{"bearerAuth": []}, {"cookieAuth": []}]


def documented_auth(view, description):
    """Record in the OpenAPI operation that `view` needs a credential and may answer 401/403."""
    return SmorestBlueprint.doc(
        security=SECURITY,
        responses={"401": "UNAUTHORIZED", "403": "FORBIDDEN"},
        description=((view.__doc__ or "").strip() + f"\n\n{description}").strip(),
    )(view)


def auth_required(view):
    """Decorator: the caller must be signed in with an active account."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        authenticate()
        return view(*args, **kwargs)

    return documented_auth(wrapper, "Requires authentication.")


def admin_required(view):
    """Decorator: the caller must be an active admin (401 anonymous, 403 non-admin)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = authenticate()
        if not user.is_admin:
            raise ApiError(403, "FORBIDDEN", "Administrator privileges required")
        return view(*args, **kwargs)

    return documented_auth(wrapper, "Requires an administrator.")


def register_jwt_callbacks(jwt):
    """Render flask-jwt-extended's failures as the envelope and check revocation in the database."""
    from flask_jwt_extended.exceptions import CSRFError  # noqa: F401 - handled via unauthorized_loader

    from chathub.auth.models import RevokedToken
    from chathub.errors import render

    @jwt.token_in_blocklist_loader
    def is_revoked(_header, payload):
        return db.session.get(RevokedToken, payload["jti"]) is not None

    @jwt.expired_token_loader
    def expired(_header, _payload):
        return render(ApiError(401, "TOKEN_EXPIRED", "Token has expired"))

    @jwt.revoked_token_loader
    def revoked(_header, _payload):
        return render(ApiError(401, "UNAUTHORIZED", "Token has been revoked"))

    @jwt.invalid_token_loader
    def invalid(reason):
        return render(ApiError(401, "UNAUTHORIZED", f"Invalid token: {reason}"))

    @jwt.unauthorized_loader
    def missing(reason):
        return render(ApiError(401, "UNAUTHORIZED", f"Authentication required: {reason}"))

    @jwt.needs_fresh_token_loader
    def not_fresh(_header, _payload):
        return render(ApiError(401, "UNAUTHORIZED", "A fresh login is required"))

    @jwt.user_lookup_error_loader
    def lookup_failed(_header, _payload):
        return render(ApiError(401, "UNAUTHORIZED", "Unknown user"))

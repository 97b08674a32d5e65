"""Thin views for `/api/auth`: parse, call the service, shape the answer."""
from flask import current_app, g, jsonify, request
from flask.views import MethodView
from flask_jwt_extended import (
    get_jwt,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)

from chathub.auth import blp, service
from chathub.auth.guards import admin_required, auth_required, authenticate
from chathub.auth.schemas import (
    AdminRegisterSchema,
    LoginResponseSchema,
    LoginSchema,
    RefreshResponseSchema,
    RefreshSchema,
    RegisterSchema,
    SessionResponseSchema,
    VerifyResponseSchema,
)
from chathub.errors import ApiError
from chathub.extensions import limiter
from chathub.ratelimit import bearer_or_cookie_token, login_account_key, login_limit
from chathub.schemas import MessageSchema
from chathub.settings_store import runtime_setting
from chathub.users import service as users
from chathub.users.schemas import UserEnvelopeSchema, UserSchema


def profile_of(user):
    """000's profile block."""
    return {"role": user.role, "modelPreference": user.model_preference}


def signed_in_body(user, tokens, message):
    """The combined 001/003/000 answer to a sign-in or registration."""
    user_data = UserSchema().dump(user)
    return {
        "success": True,
        "ok": True,
        "token": tokens["access_token"],
        **tokens,
        "user": user_data,
        "profile": profile_of(user),
        "data": {"user": user_data, **tokens},
        "message": message,
    }


def with_cookies(body, tokens, status=200):
    """A JSON response that also sets the JWT cookies (HttpOnly) and the CSRF cookie."""
    response = jsonify(body)
    response.status_code = status
    set_access_cookies(response, tokens["access_token"])
    if "refresh_token" in tokens:
        set_refresh_cookies(response, tokens["refresh_token"])
    return response


@blp.route("/login")
class Login(MethodView):
    """Sign in."""

    decorators = [
        limiter.limit(login_limit, methods=["POST"]),
        limiter.limit(login_limit, key_func=login_account_key, methods=["POST"]),
    ]

    @blp.arguments(LoginSchema)
    @blp.response(200, LoginResponseSchema)
    @blp.alt_response(401, response="UNAUTHORIZED", description="INVALID_CREDENTIALS")
    @blp.alt_response(403, response="FORBIDDEN", description="ACCOUNT_DISABLED")
    def post(self, data):
        """Sign in with username or email and password; sets the JWT cookie too."""
        login = (data.get("username") or data.get("email") or "").strip()
        user = service.check_credentials(login, data["password"])
        tokens = service.issue_tokens(user)
        return with_cookies(signed_in_body(user, tokens, "Login successful"), tokens)


@blp.route("/register")
class Register(MethodView):
    """Self-service registration."""

    @blp.arguments(RegisterSchema)
    @blp.response(201, LoginResponseSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="Registration is closed")
    @blp.alt_response(409, response="CONFLICT", description="USER_ALREADY_EXISTS")
    def post(self, data):
        """Create an account (when registration is open) and sign it in."""
        allowed = runtime_setting("allow_registration", current_app.config["CHATHUB_ALLOW_REGISTRATION"])
        if not allowed:
            raise ApiError(403, "FORBIDDEN", "Registration is closed on this server")
        user = users.create_user(data["username"], data["email"], data["password"])
        tokens = service.issue_tokens(user)
        return with_cookies(signed_in_body(user, tokens, "Registration successful"), tokens, status=201)


@blp.route("/admin/register")
class AdminRegister(MethodView):
    """An administrator creates an account."""

    @admin_required
    @blp.arguments(AdminRegisterSchema)
    @blp.response(201, UserEnvelopeSchema)
    @blp.alt_response(409, response="CONFLICT", description="USER_ALREADY_EXISTS")
    def post(self, data):
        """Create an account with a role (admin only)."""
        user = users.create_user(
            data["username"], data["email"], data["password"], data["role"], data["subscription_type"]
        )
        return {"success": True, "data": user, "user": user, "message": "User created"}


@blp.route("/verify")
class Verify(MethodView):
    """Check a token."""

    @auth_required
    @blp.response(200, VerifyResponseSchema)
    def get(self):
        """Whether the current token is valid, with its user."""
        return {"success": True, "valid": True, "user": g.user, "data": g.user, "message": "Token is valid"}


@blp.route("/me")
class Me(MethodView):
    """The signed-in user."""

    @auth_required
    @blp.response(200, UserEnvelopeSchema)
    def get(self):
        """The current user's account."""
        return {"success": True, "data": g.user, "message": "OK"}


@blp.route("/session")
class Session(MethodView):
    """000's session probe: never 401."""

    @blp.response(200, SessionResponseSchema)
    def get(self):
        """`{authenticated: true, user, profile}` or `{authenticated: false}`."""
        try:
            user = authenticate(optional=True)
        except ApiError:
            user = None
        except Exception:  # noqa: BLE001 - an expired or broken token simply means "not signed in"
            user = None
        if user is None:
            return {"authenticated": False}
        return {"authenticated": True, "user": user, "profile": profile_of(user)}


@blp.route("/refresh")
class Refresh(MethodView):
    """Exchange a refresh token for a new access token."""

    @blp.arguments(RefreshSchema, required=False)
    @blp.response(200, RefreshResponseSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, data):
        """Refresh token from the body, the `Authorization` header or the refresh cookie."""
        if data.get("refresh_token"):
            user = service.refresh_user_from_token(data["refresh_token"])
        else:
            verify_jwt_in_request(refresh=True)
            user = service.refresh_user_from_token(
                bearer_or_cookie_token("JWT_REFRESH_COOKIE_NAME", "refresh_token_cookie") or ""
            )
        tokens = service.issue_tokens(user, with_refresh=False)
        body = {
            "success": True, "data": tokens, "token": tokens["access_token"], **tokens, "message": "Token refreshed"
        }
        response = jsonify(body)
        set_access_cookies(response, tokens["access_token"])
        return response


@blp.route("/logout")
class Logout(MethodView):
    """Sign out: the token stops working everywhere at once."""

    @auth_required
    @blp.arguments(RefreshSchema, required=False)
    @blp.response(200, MessageSchema)
    def post(self, data):
        """Revoke the current token (and a refresh token given in the body) and clear the cookies."""
        if not getattr(g, "demo", False) and verify_jwt_in_request(optional=True):
            service.revoke(get_jwt())
        if data.get("refresh_token"):
            service.revoke_encoded(data["refresh_token"])
        refresh_cookie = request.cookies.get(current_app.config.get("JWT_REFRESH_COOKIE_NAME", "refresh_token_cookie"))
        if refresh_cookie:
            service.revoke_encoded(refresh_cookie)
        response = jsonify({"success": True, "ok": True, "data": None, "message": "Logged out"})
        unset_jwt_cookies(response)
        return response

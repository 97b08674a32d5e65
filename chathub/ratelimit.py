"""Who a request counts against for rate limiting, and which limit applies.

Authenticated requests count per user (so one user on many IPs shares one budget);
anonymous ones per client address. The key function verifies the request's access token in full
(flask-jwt-extended's checks, revocation included) and marks the request (its WSGI environ, never
`g`, which an outer app context can share between requests) when it passed, so the auth guards reuse
that verification instead of decoding the token a second time.
"""
from flask import current_app, request
from flask_jwt_extended import decode_token, verify_jwt_in_request

# Set in the request's environ once its access token passed `verify_jwt_in_request` (see auth.guards).
JWT_VERIFIED = "chathub.jwt_verified"
RATE_KEY = "chathub.rate_limit_key"


def bearer_or_cookie_token(cookie_setting="JWT_ACCESS_COOKIE_NAME", cookie_default="access_token_cookie"):
    """The raw JWT string of this request (Bearer header, else the named cookie), or None."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.cookies.get(current_app.config.get(cookie_setting, cookie_default))


def rate_limit_key():
    """`user:<id>` for a request carrying a valid token, else `ip:<address>` (computed once per request)."""
    key = request.environ.get(RATE_KEY)
    if key is None:
        key = request.environ[RATE_KEY] = identity_key()
    return key


def identity_key():
    """The rate-limit identity of this request (see `rate_limit_key`)."""
    token = bearer_or_cookie_token()
    if token:
        demo = current_app.config.get("CHATHUB_DEMO_TOKEN")
        if demo and token == demo:
            return "user:demo"
        try:
            verified = verify_jwt_in_request(optional=True)
        except Exception:  # noqa: BLE001 - not a usable access token; the guards answer for it
            verified = None
        if verified:
            request.environ[JWT_VERIFIED] = True
            return f"user:{verified[1]['sub']}"
        try:  # e.g. a refresh token, or a cookie without its CSRF header: still this user's budget
            return f"user:{decode_token(token)['sub']}"
        except Exception:  # noqa: BLE001 - an invalid token simply counts per address
            pass
    return f"ip:{request.remote_addr or 'unknown'}"


def default_limit():
    """The per-identity default limit, read per request so runtime config changes apply."""
    from chathub.settings_store import runtime_setting

    return runtime_setting("rate_limit_default", current_app.config["RATELIMIT_DEFAULT"])


def login_limit():
    """The stricter limit on login attempts."""
    from chathub.settings_store import runtime_setting

    return runtime_setting("rate_limit_login", current_app.config["RATELIMIT_LOGIN"])


def login_account_key():
    """Login attempts count per account named in the body as well as per client."""
    body = request.get_json(silent=True)
    name = (body.get("username") or body.get("email") or "") if isinstance(body, dict) else ""
    return f"login:{str(name).strip().lower()[:200]}"

"""Who a request counts against for rate limiting, and which limit applies.

Authenticated requests count per user (so one user on many IPs shares one budget);
anonymous ones per client address.
"""
from flask import current_app, request
from flask_jwt_extended import decode_token


def bearer_or_cookie_token():
    """The raw JWT string of this request, or None."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.cookies.get(current_app.config.get("JWT_ACCESS_COOKIE_NAME", "access_token_cookie"))


def rate_limit_key():
    """`user:<id>` for a request carrying a valid token, else `ip:<address>`."""
    token = bearer_or_cookie_token()
    if token:
        demo = current_app.config.get("CHATHUB_DEMO_TOKEN")
        if demo and token == demo:
            return "user:demo"
        try:
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

"""Sign-in rules: checking credentials, issuing and revoking tokens."""
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from chathub.auth.models import RevokedToken
from chathub.errors import ApiError
from chathub.extensions import db
from chathub.security import verify_password
from chathub.timeutil import utcnow
from chathub.users.service import find_by_login


def check_credentials(login, password):
    """The user for these credentials; 401 INVALID_CREDENTIALS or 403 ACCOUNT_DISABLED otherwise."""
    user = find_by_login(login)
    if user is None or not verify_password(user.password_hash, password):
        raise ApiError(401, "INVALID_CREDENTIALS", "Invalid username/email or password")
    if not user.can_sign_in:
        raise ApiError(403, "ACCOUNT_DISABLED", "This account is disabled")
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def issue_tokens(user, with_refresh=True):
    """A new access token (and refresh token) for `user`, in 003's field names."""
    claims = {"ver": user.token_version, "role": user.role}
    expires = int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    tokens = {
        "access_token": create_access_token(
            identity=str(user.id), additional_claims=claims, expires_delta=timedelta(seconds=expires)
        ),
        "token_type": "bearer",
        "expires_in": expires,
    }
    if with_refresh:
        tokens["refresh_token"] = create_refresh_token(
            identity=str(user.id),
            additional_claims=claims,
            expires_delta=current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
        )
    return tokens


def revoke(claims):
    """Make the token with these decoded claims stop working everywhere, now."""
    jti = claims.get("jti")
    if not jti or db.session.get(RevokedToken, jti) is not None:
        return
    expires_at = datetime.fromtimestamp(claims.get("exp", 0), tz=timezone.utc).replace(tzinfo=None)
    db.session.add(RevokedToken(jti=jti, expires_at=expires_at))
    db.session.commit()


def revoke_encoded(token):
    """Revoke a token given as its encoded string; invalid strings are ignored."""
    try:
        claims = decode_token(token, allow_expired=True)
    except Exception:  # noqa: BLE001 - nothing to revoke in a token we cannot read
        return
    revoke(claims)


def refresh_user_from_token(token):
    """The user of an encoded refresh token given in a body (header/cookie are checked by the guard)."""
    from chathub.users.models import User

    try:
        claims = decode_token(token)
    except Exception as exc:  # noqa: BLE001
        raise ApiError(401, "UNAUTHORIZED", "Invalid refresh token") from exc
    if claims.get("type") != "refresh":
        raise ApiError(401, "UNAUTHORIZED", "A refresh token is required")
    if db.session.get(RevokedToken, claims["jti"]) is not None:
        raise ApiError(401, "UNAUTHORIZED", "Token has been revoked")
    user = db.session.get(User, int(claims["sub"]))
    if user is None or not user.can_sign_in:
        raise ApiError(403, "ACCOUNT_DISABLED", "This account is disabled")
    if claims.get("ver", 0) != user.token_version:
        raise ApiError(401, "UNAUTHORIZED", "Token has been revoked")
    return user


def purge_expired_revocations():
    """Delete revocations of tokens that have expired anyway; returns how many."""
    rows = RevokedToken.__table__.delete().where(RevokedToken.expires_at < utcnow())
    result = db.session.execute(rows)
    db.session.commit()
    return result.rowcount

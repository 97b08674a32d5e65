"""Account rules: creating, finding, updating, disabling users; the first admin; the demo user."""
import secrets

from flask import current_app
from sqlalchemy import func, or_, select

from chathub.errors import ApiError, not_found
from chathub.extensions import db
from chathub.pagination import paginate
from chathub.security import hash_password, verify_password
from chathub.timeutil import utcnow
from chathub.users.models import User


def find_by_login(login):
    """The user whose username or email is `login` (emails compare case-insensitively)."""
    login = (login or "").strip()
    if not login:
        return None
    statement = select(User).where(or_(User.username == login, func.lower(User.email) == login.lower()))
    return db.session.execute(statement).scalars().first()


def get_user(user_id):
    """The user with this id (soft-deleted included), or 404."""
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("User")
    return user


def ensure_unique(username=None, email=None, exclude_id=None):
    """409 USER_ALREADY_EXISTS when the username or email is taken by another account."""
    checks = []
    if username is not None:
        checks.append(User.username == username)
    if email is not None:
        checks.append(func.lower(User.email) == email.lower())
    if not checks:
        return
    statement = select(User.id).where(or_(*checks))
    if exclude_id is not None:
        statement = statement.where(User.id != exclude_id)
    if db.session.execute(statement).first() is not None:
        raise ApiError(409, "USER_ALREADY_EXISTS", "A user with this username or email already exists")


def create_user(username, email, password, role="user", subscription_type="free", commit=True):
    """A new active account; 409 if the username or email is taken."""
    username = username.strip()
    email = email.strip()
    ensure_unique(username, email)
    user = User(
        username=username,
        email=email,
        password_hash=hash_password(password),
        role=role,
        subscription_type=subscription_type,
        is_active=True,
    )
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def username_from_email(email):
    """A free username derived from an email address (for 000's email-only user creation)."""
    base = "".join(ch for ch in email.split("@")[0] if ch.isalnum() or ch in "._-")[:40] or "user"
    candidate = base
    while db.session.execute(select(User.id).where(User.username == candidate)).first():
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


def update_user(user, changes, by_admin=False):
    """Apply profile changes (admins may also change role, subscription and active state)."""
    allowed = {"username", "email", "model_preference"}
    if by_admin:
        allowed |= {"role", "subscription_type", "is_active"}
    changes = {k: v for k, v in changes.items() if k in allowed}
    ensure_unique(changes.get("username"), changes.get("email"), exclude_id=user.id)
    for key, value in changes.items():
        setattr(user, key, value.strip() if isinstance(value, str) and key in ("username", "email") else value)
    if changes.get("is_active") is True:
        user.disabled_reason = None
    db.session.commit()
    return user


def change_own_password(user, current_password, new_password):
    """Change the caller's password after checking the current one; other sessions end."""
    if not verify_password(user.password_hash, current_password or ""):
        raise ApiError(400, "VALIDATION_ERROR", "Current password is incorrect", {"current_password": ["incorrect"]})
    set_password(user, new_password)


def set_password(user, new_password):
    """Set a new password and invalidate every token issued before it."""
    user.password_hash = hash_password(new_password)
    user.token_version += 1
    db.session.commit()


def set_active(user, active, acting_user_id=None, reason=None):
    """Enable or disable an account (never one's own). Disabling ends its sessions at once."""
    if acting_user_id is not None and user.id == acting_user_id:
        raise ApiError(400, "VALIDATION_ERROR", "You cannot change the status of your own account")
    user.is_active = active
    user.disabled_reason = None if active else (reason or None)
    if active:
        user.deleted_at = None
    db.session.commit()
    return user


def soft_delete(user, acting_user_id):
    """001's delete: disable the account and mark it deleted; its data is kept."""
    if user.id == acting_user_id:
        raise ApiError(400, "VALIDATION_ERROR", "You cannot delete your own account")
    user.is_active = False
    user.deleted_at = utcnow()
    db.session.commit()
    return user


def list_users(page, page_size, search=None, role=None, is_active=None):
    """A page of users, newest first, filtered by a username/email search, role and state."""
    statement = select(User).order_by(User.id.desc())
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(or_(func.lower(User.username).like(pattern), func.lower(User.email).like(pattern)))
    if role:
        statement = statement.where(User.role == role)
    if is_active is not None:
        statement = statement.where(User.is_active.is_(is_active))
    return paginate(statement, page, page_size)


def ensure_admin():
    """Create the first admin from CHATHUB_ADMIN_* when no admin exists; returns it (or None)."""
    existing = db.session.execute(select(User).where(User.role == "admin")).scalars().first()
    if existing is not None:
        return None
    config = current_app.config
    name, email = config["CHATHUB_ADMIN_USERNAME"], config["CHATHUB_ADMIN_EMAIL"]
    taken = find_by_login(name) or find_by_login(email)
    if taken is not None:
        taken.role = "admin"
        db.session.commit()
        return taken
    return create_user(name, email, config["CHATHUB_ADMIN_PASSWORD"], role="admin", subscription_type="premium")


def ensure_demo_user():
    """The account the development demo token acts as (created on first use)."""
    from chathub.auth.guards import DEMO_USERNAME

    user = db.session.execute(select(User).where(User.username == DEMO_USERNAME)).scalars().first()
    if user is None:
        user = create_user(DEMO_USERNAME, "demo@chathub.local", secrets.token_urlsafe(24))
    if not user.can_sign_in:
        raise ApiError(403, "ACCOUNT_DISABLED", "The demo account is disabled")
    return user

"""API-key rules: saving (encrypted, URL-checked), ownership, organization keys and their
distribution, what a user may chat with, and testing a key with one tiny upstream call."""
import time

from sqlalchemy import select

from chathub.catalog.models import AiModel, Provider
from chathub.catalog.service import require_provider
from chathub.errors import ApiError, not_found
from chathub.extensions import db
from chathub.keys import resolve
from chathub.keys.models import ApiKey, ApiKeyDistribution
from chathub.security import encrypt_secret, mask_secret
from chathub.timeutil import utcnow
from chathub.upstream import client
from chathub.upstream.urlguard import BlockedUpstream, check_host
from chathub.users.models import User

TEST_PROMPT = [{"role": "user", "content": "ping"}]


def list_keys(user):
    """The caller's own keys; for admins also every organization key. Newest first."""
    condition = ApiKey.user_id == user.id
    if user.is_admin:
        condition = condition | (ApiKey.scope == "organization")
    statement = select(ApiKey).where(condition).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    return db.session.execute(statement).scalars().all()


def get_owned_or_404(user, key_id):
    """A key the caller may manage: their own, or (admins) any organization key. Otherwise 404."""
    key = db.session.get(ApiKey, key_id)
    if key is None or not (key.user_id == user.id or (user.is_admin and key.scope == "organization")):
        raise not_found("API key")
    return key


def check_base_url(user, base_url):
    """A user-chosen base URL may not reach internal addresses unless admin or allowed by settings."""
    if base_url is None or user.is_admin or resolve.private_upstreams_allowed():
        return
    try:
        check_host(base_url)
    except BlockedUpstream as exc:
        raise ApiError(400, "VALIDATION_ERROR", f"Invalid base_url: {exc}", {"base_url": [str(exc)]}) from None


def set_secret(key, plaintext):
    """Store the key encrypted, remembering only its masked form in clear."""
    key.api_key_encrypted = encrypt_secret(plaintext)
    key.key_hint = mask_secret(plaintext)


def create_key(user, data):
    """Save a key for a provider (`organization` scope is for admins)."""
    if data["scope"] == "organization" and not user.is_admin:
        raise ApiError(403, "FORBIDDEN", "Only administrators may create organization keys")
    require_provider(data["model_provider"], "model_provider")
    check_base_url(user, data.get("base_url"))
    key = ApiKey(user_id=user.id, model_provider=data["model_provider"], scope=data["scope"],
                 base_url=data.get("base_url"), name=data.get("name"), is_active=data["is_active"])
    set_secret(key, data["api_key"])
    db.session.add(key)
    db.session.commit()
    return key


def update_key(user, key_id, changes):
    """Change a key's secret, provider, base URL, name or state."""
    key = get_owned_or_404(user, key_id)
    if "model_provider" in changes:
        require_provider(changes["model_provider"], "model_provider")
    if "base_url" in changes:
        check_base_url(user, changes["base_url"])
    if "api_key" in changes:
        set_secret(key, changes.pop("api_key"))
    for field_name in ("model_provider", "base_url", "name", "is_active"):
        if field_name in changes:
            setattr(key, field_name, changes[field_name])
    db.session.commit()
    return key


def delete_key(user, key_id):
    """Delete a key (and its distributions)."""
    key = get_owned_or_404(user, key_id)
    for row in db.session.execute(select(ApiKeyDistribution).where(ApiKeyDistribution.api_key_id == key.id)).scalars():
        db.session.delete(row)
    db.session.delete(key)
    db.session.commit()


def toggle_key(user, key_id):
    """Flip a key's active state."""
    key = get_owned_or_404(user, key_id)
    key.is_active = not key.is_active
    db.session.commit()
    return key


def organization_key(user, key_id):
    """A manageable organization key, or 400 for a personal one."""
    key = get_owned_or_404(user, key_id)
    if key.scope != "organization":
        raise ApiError(400, "VALIDATION_ERROR", "Only organization keys can be distributed",
                       {"scope": ["this key is personal"]})
    return key


def distribute(admin, key_id, user_ids):
    """Give an organization key to users (re-activating revoked grants); 400 naming unknown users."""
    key = organization_key(admin, key_id)
    wanted = sorted(set(user_ids))
    found = set(db.session.execute(
        select(User.id).where(User.id.in_(wanted), User.deleted_at.is_(None))
    ).scalars())
    missing = [user_id for user_id in wanted if user_id not in found]
    if missing:
        raise ApiError(400, "VALIDATION_ERROR", "Unknown user ids: " + ", ".join(map(str, missing)),
                       {"user_ids": [f"unknown user id {i}" for i in missing]})
    now = utcnow()
    existing = {row.user_id: row for row in db.session.execute(
        select(ApiKeyDistribution).where(ApiKeyDistribution.api_key_id == key.id)
    ).scalars()}
    for user_id in wanted:
        row = existing.get(user_id)
        if row is None:
            db.session.add(ApiKeyDistribution(api_key_id=key.id, user_id=user_id, distributed_by=admin.id,
                                              distributed_at=now, is_active=True))
        elif not row.is_active:
            row.is_active, row.revoked_at, row.distributed_at, row.distributed_by = True, None, now, admin.id
    db.session.commit()
    return {"api_key_id": key.id, "distributed_to": wanted, "distributed_at": now}


def revoke(admin, key_id, user_id):
    """Take an organization key back from a user: their next chat can no longer use it."""
    key = organization_key(admin, key_id)
    row = db.session.execute(select(ApiKeyDistribution).where(
        ApiKeyDistribution.api_key_id == key.id, ApiKeyDistribution.user_id == user_id,
        ApiKeyDistribution.is_active.is_(True),
    )).scalar_one_or_none()
    if row is None:
        raise not_found("Distribution")
    row.is_active, row.revoked_at = False, utcnow()
    db.session.commit()


def distributions(admin, key_id):
    """Who received this organization key, when and from whom (revoked grants included)."""
    key = organization_key(admin, key_id)
    rows = db.session.execute(select(ApiKeyDistribution).where(ApiKeyDistribution.api_key_id == key.id)
                              .order_by(ApiKeyDistribution.distributed_at, ApiKeyDistribution.id)).scalars().all()
    return [{
        "id": row.id, "user_id": row.user_id, "user": db.session.get(User, row.user_id),
        "distributed_by": row.distributed_by,
        "distributor": db.session.get(User, row.distributed_by) if row.distributed_by else None,
        "distributed_at": row.distributed_at, "revoked_at": row.revoked_at, "is_active": row.is_active,
    } for row in rows]


def available(user):
    """Everything this user may chat with, on active providers: own, distributed, then server keys."""
    providers = {p.provider_key: p for p in db.session.execute(
        select(Provider).where(Provider.is_active.is_(True)).order_by(Provider.sort_order, Provider.id)
    ).scalars()}
    entries = []
    for key in list_keys(user):
        if key.user_id == user.id and key.is_active and key.model_provider in providers:
            entries.append(entry(key, providers[key.model_provider], "personal"))
    for provider in providers.values():
        for key in resolve.distributed_keys(user.id, provider.provider_key):
            entries.append(entry(key, provider, "organization"))
    if resolve.server_keys_shared_with(user):
        for provider in providers.values():
            secret = resolve.server_secret(provider.provider_key)
            if secret is not None:
                entries.append({"id": None, "source": "server", "model_provider": provider.provider_key,
                                "provider_name": provider.display_name, "name": "Server key", "api_key": None,
                                "base_url": None, "is_active": True})
    return entries


def entry(key, provider, source):
    """One `available` entry for a stored key (masked)."""
    return {"id": key.id, "source": source, "model_provider": key.model_provider,
            "provider_name": provider.display_name, "name": key.name, "api_key": key.key_hint,
            "base_url": key.base_url or provider.default_base_url, "is_active": key.is_active}


def ping(credential, model_name):
    """One tiny upstream call: a 1-token chat with `model_name`, or `GET /models` without a model."""
    started = time.monotonic()
    if model_name:
        client.chat_completion(credential, {"model": model_name, "messages": TEST_PROMPT, "max_tokens": 1,
                                            "stream": False})
    else:
        client.list_models(credential)
    return int((time.monotonic() - started) * 1000)


def result(credential, model_name, latency_ms):
    """000's `{"ok": true}` with what was tested."""
    return {"ok": True, "success": True, "message": "The provider accepted the key",
            "provider": credential.provider_key,
            "model": model_name or None, "source": credential.source, "latency_ms": latency_ms}


def check_stored_key(user, key_id, model_name=None):
    """Test one of the caller's keys (with `model_name`, else the provider's first active catalog model)."""
    key = get_owned_or_404(user, key_id)
    provider = db.session.execute(select(Provider).where(Provider.provider_key == key.model_provider)).scalar_one()
    if not model_name:
        model_name = db.session.execute(
            select(AiModel.model_name).where(AiModel.model_provider == provider.provider_key,
                                             AiModel.is_active.is_(True)).order_by(AiModel.sort_order, AiModel.id)
        ).scalars().first()
    credential = resolve.credential_for_key(key, provider)
    if credential is None:
        raise ApiError(400, "VALIDATION_ERROR", "This key cannot be used: save it again (and set a base_url if the "
                       "provider has no default)", {"api_key": ["unusable"]})
    key_row_id = key.id
    db.session.commit()  # end the read transaction: no pooled connection waits on the upstream
    latency = ping(credential, model_name)
    key = db.session.get(ApiKey, key_row_id)
    if key is not None:
        key.last_used_at = utcnow()
        db.session.commit()
    return result(credential, model_name, latency)


def check_model(user_id, model_name):
    """000's test-key: can this user chat with `model_name` right now (with the key a chat would use)?"""
    credential = resolve.resolve_credential(user_id, model_name)
    db.session.commit()
    return result(credential, credential.model_name, ping(credential, credential.model_name))

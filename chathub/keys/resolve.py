"""Which credential a chat uses (API.md §Catalog): the model's provider, then the user's own active key
for it, then an organization key distributed to the user, then the server's environment key.

`resolve_credential` is what the chat relay calls; discovery and key tests use the helpers below.
A `Credential` carries the plaintext key for the one upstream call: it is never logged or shown.
"""
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from chathub.catalog.models import AiModel, Provider
from chathub.errors import ApiError
from chathub.extensions import db
from chathub.keys.models import ApiKey, ApiKeyDistribution
from chathub.security import decrypt_secret
from chathub.upstream.urlguard import normalize_base_url
from chathub.users.models import User

log = logging.getLogger(__name__)

# provider_key -> the setting holding the server's key for it (000: keys from the environment).
SERVER_KEY_SETTINGS = {
    "openai": "OPENAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "siliconflow": "SILICONFLOW_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
}
# Providers served by the server without a key, from a URL setting (local Ollama).
SERVER_URL_SETTINGS = {"ollama": "OLLAMA_BASE_URL"}
ZERO = Decimal("0")


@dataclass(frozen=True)
class Credential:
    """Everything one upstream call needs: where, with which key, for which model, at what price."""

    provider_key: str
    base_url: str
    api_key: str | None = field(repr=False)
    api_key_id: int | None
    source: str
    model_id: int | None
    model_name: str
    input_price_per_1k: Decimal
    output_price_per_1k: Decimal
    private_allowed: bool


def private_upstreams_allowed():
    """True when every user may use loopback/private base URLs (CHATHUB_ALLOW_PRIVATE_UPSTREAMS)."""
    return bool(current_app.config.get("CHATHUB_ALLOW_PRIVATE_UPSTREAMS"))


def server_keys_shared_with(user):
    """Whether `user` may chat with the server's environment keys (all users, or admins only)."""
    return bool(current_app.config.get("CHATHUB_SHARE_SERVER_KEYS", True)) or bool(user and user.is_admin)


def server_secret(provider_key):
    """(api_key, base_url override) configured in the environment for this provider, or None."""
    config = current_app.config
    if provider_key in SERVER_KEY_SETTINGS and config.get(SERVER_KEY_SETTINGS[provider_key]):
        return config[SERVER_KEY_SETTINGS[provider_key]], None
    if provider_key in SERVER_URL_SETTINGS and config.get(SERVER_URL_SETTINGS[provider_key]):
        url = normalize_base_url(config[SERVER_URL_SETTINGS[provider_key]])
        return None, url if url.rstrip("/").endswith("/v1") else url.rstrip("/") + "/v1"
    return None


def server_setting_name(provider_key):
    """The environment setting that gives the server a credential for this provider, if any."""
    return SERVER_KEY_SETTINGS.get(provider_key) or SERVER_URL_SETTINGS.get(provider_key)


def own_keys(user_id, provider_key):
    """The user's own active keys for a provider, newest first."""
    statement = (
        select(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.model_provider == provider_key, ApiKey.is_active.is_(True))
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return db.session.execute(statement).scalars().all()


def distributed_keys(user_id, provider_key):
    """Active organization keys for a provider distributed to the user, newest distribution first."""
    statement = (
        select(ApiKey)
        .join(ApiKeyDistribution, ApiKeyDistribution.api_key_id == ApiKey.id)
        .where(
            ApiKeyDistribution.user_id == user_id,
            ApiKeyDistribution.is_active.is_(True),
            ApiKey.scope == "organization",
            ApiKey.is_active.is_(True),
            ApiKey.model_provider == provider_key,
        )
        .order_by(ApiKeyDistribution.distributed_at.desc(), ApiKey.id.desc())
    )
    return db.session.execute(statement).scalars().all()


def credential_for_key(key, provider, model=None, source=None):
    """The credential of a stored key (None when it cannot be decrypted or has no URL)."""
    plaintext = decrypt_secret(key.api_key_encrypted)
    if plaintext is None:
        log.warning("api key %s cannot be decrypted (was CHATHUB_ENCRYPTION_KEY changed?)", key.id)
        return None
    base_url = key.base_url or provider.default_base_url
    if not base_url:
        return None
    owner = db.session.get(User, key.user_id)
    # A URL an admin set (the provider default, or an admin's key) is trusted; a user's own is not.
    trusted = not key.base_url or bool(owner and owner.is_admin) or private_upstreams_allowed()
    return build(provider, model, base_url, plaintext, key.id, source or key.scope, trusted)


def server_credential(provider, model=None):
    """The server's environment credential for a provider, or None."""
    secret = server_secret(provider.provider_key)
    if secret is None:
        return None
    api_key, url = secret
    base_url = url or provider.default_base_url
    if not base_url:
        return None
    return build(provider, model, base_url, api_key, None, "server", True)


def build(provider, model, base_url, api_key, api_key_id, source, private_allowed):
    """Assemble a Credential (prices from the model, zero without one)."""
    return Credential(
        provider_key=provider.provider_key,
        base_url=normalize_base_url(base_url),
        api_key=api_key,
        api_key_id=api_key_id,
        source=source,
        model_id=model.id if model is not None else None,
        model_name=model.model_name if model is not None else "",
        input_price_per_1k=model.input_price_per_1k if model is not None else ZERO,
        output_price_per_1k=model.output_price_per_1k if model is not None else ZERO,
        private_allowed=private_allowed,
    )


def provider_credential(user_id, provider, model=None):
    """The first usable credential for `provider` in resolution order, or None."""
    for key in own_keys(user_id, provider.provider_key):
        credential = credential_for_key(key, provider, model, source="personal")
        if credential is not None:
            return credential
    for key in distributed_keys(user_id, provider.provider_key):
        credential = credential_for_key(key, provider, model, source="organization")
        if credential is not None:
            return credential
    if server_keys_shared_with(db.session.get(User, user_id)):
        return server_credential(provider, model)
    return None


def missing_key_error(provider_key, field_name="model"):
    """400 telling the user what to configure for this provider."""
    setting = server_setting_name(provider_key)
    server = f", or have the server configured with {setting}" if setting else ""
    message = (
        f"No API key is configured for provider '{provider_key}': save one with POST /api/apikeys "
        f"(model_provider '{provider_key}'), ask an administrator to share an organization key{server}"
    )
    return ApiError(400, "VALIDATION_ERROR", message, {field_name: [f"no API key for provider '{provider_key}'"]})


def active_provider(provider_key, field_name="provider_key"):
    """The provider with this key: 404 when unknown, 400 PROVIDER_INACTIVE when deactivated."""
    provider = db.session.execute(select(Provider).where(Provider.provider_key == provider_key)).scalar_one_or_none()
    if provider is None:
        raise ApiError(404, "NOT_FOUND", f"Provider '{provider_key}' not found")
    if not provider.is_active:
        raise ApiError(400, "PROVIDER_INACTIVE", f"Provider '{provider_key}' is disabled",
                       {field_name: ["provider is disabled"]})
    return provider


def resolve_provider_credential(user_id, provider_key):
    """The credential `user_id` would use for `provider_key` (no model): discovery and tests."""
    provider = active_provider(provider_key)
    credential = provider_credential(user_id, provider)
    if credential is None:
        raise missing_key_error(provider_key, "provider_key")
    return credential


def resolve_credential(user_id, model_name):
    """The credential a chat by `user_id` with catalog model `model_name` uses; 400 when there is none.

    When several active providers serve the same model name, the first (by model sort_order) for
    which the user has a credential wins.
    """
    name = (model_name or "").strip()
    if not name:
        raise ApiError(400, "VALIDATION_ERROR", "A model is required", {"model": ["required"]})
    rows = db.session.execute(
        select(AiModel, Provider)
        .join(Provider, Provider.provider_key == AiModel.model_provider)
        .where(AiModel.model_name == name)
        .order_by(AiModel.sort_order, AiModel.id)
    ).all()
    if not rows:
        raise ApiError(400, "VALIDATION_ERROR", f"Unknown model '{name}': choose one from GET /api/models",
                       {"model": ["unknown model"]})
    usable = [(model, provider) for model, provider in rows if model.is_active and provider.is_active]
    if not usable:
        if any(model.is_active for model, _ in rows):
            provider_key = rows[0][1].provider_key
            raise ApiError(400, "PROVIDER_INACTIVE", f"The provider of model '{name}' ({provider_key}) is disabled",
                           {"model": ["provider is disabled"]})
        raise ApiError(400, "VALIDATION_ERROR", f"Model '{name}' is disabled", {"model": ["model is disabled"]})
    for model, provider in usable:
        credential = provider_credential(user_id, provider, model)
        if credential is not None:
            return credential
    raise missing_key_error(usable[0][1].provider_key)

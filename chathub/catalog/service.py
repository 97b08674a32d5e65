"""Catalog rules: providers and models (admin-managed), listing, ordering, and model discovery."""
from decimal import Decimal

from sqlalchemy import func, select

from chathub.catalog.models import AiModel, Provider
from chathub.errors import ApiError, not_found
from chathub.extensions import db
from chathub.upstream import client


def list_providers(include_inactive=False):
    """Providers by sort_order (active only unless asked)."""
    statement = select(Provider).order_by(Provider.sort_order, Provider.id)
    if not include_inactive:
        statement = statement.where(Provider.is_active.is_(True))
    return db.session.execute(statement).scalars().all()


def get_provider(provider_id):
    """The provider with this id (active or not), or 404."""
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise not_found("Provider")
    return provider


def provider_by_key(provider_key):
    """The provider with this key, or None."""
    return db.session.execute(select(Provider).where(Provider.provider_key == provider_key)).scalar_one_or_none()


def require_provider(provider_key, field_name):
    """The provider named in a request body; 400 naming the field when there is none."""
    provider = provider_by_key(provider_key)
    if provider is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unknown provider '{provider_key}'",
                       {field_name: [f"unknown provider '{provider_key}'"]})
    return provider


def create_provider(data):
    """A new provider; 409 when the key is taken."""
    if provider_by_key(data["provider_key"]) is not None:
        raise ApiError(409, "CONFLICT", f"Provider '{data['provider_key']}' already exists")
    provider = Provider(**data)
    db.session.add(provider)
    db.session.commit()
    return provider


def update_provider(provider_id, changes):
    """Apply an admin's changes to a provider."""
    provider = get_provider(provider_id)
    for key, value in changes.items():
        setattr(provider, key, value)
    db.session.commit()
    return provider


def deactivate_provider(provider_id):
    """Soft delete: its models and keys stay readable but no new chat can use them."""
    return update_provider(provider_id, {"is_active": False})


def list_models(active_only=False, provider=None, model_type=None):
    """Catalog models by sort_order with 001's filters."""
    statement = select(AiModel).order_by(AiModel.sort_order, AiModel.id)
    if active_only:
        statement = statement.where(AiModel.is_active.is_(True))
    if provider:
        statement = statement.where(AiModel.model_provider == provider)
    if model_type:
        statement = statement.where(AiModel.model_type == model_type)
    return db.session.execute(statement).scalars().all()


def get_model(model_id):
    """The model with this id, or 404."""
    model = db.session.get(AiModel, model_id)
    if model is None:
        raise not_found("Model")
    return model


def ensure_model_unique(provider_key, model_name, exclude_id=None):
    """409 when this provider already has a model with this name."""
    statement = select(AiModel.id).where(AiModel.model_provider == provider_key, AiModel.model_name == model_name)
    if exclude_id is not None:
        statement = statement.where(AiModel.id != exclude_id)
    if db.session.execute(statement).first() is not None:
        raise ApiError(409, "CONFLICT", f"Provider '{provider_key}' already has a model '{model_name}'")


def create_model(data):
    """A new catalog model for an existing provider."""
    require_provider(data["model_provider"], "model_provider")
    ensure_model_unique(data["model_provider"], data["model_name"])
    data.setdefault("display_name", data["model_name"])
    model = AiModel(**data)
    db.session.add(model)
    db.session.commit()
    return model


def update_model(model_id, changes):
    """Apply an admin's changes to a model."""
    model = get_model(model_id)
    if "model_provider" in changes:
        require_provider(changes["model_provider"], "model_provider")
    ensure_model_unique(changes.get("model_provider", model.model_provider),
                        changes.get("model_name", model.model_name), exclude_id=model.id)
    for key, value in changes.items():
        setattr(model, key, value)
    db.session.commit()
    return model


def delete_model(model_id):
    """Remove a model from the catalog (stored chats keep its name)."""
    db.session.delete(get_model(model_id))
    db.session.commit()


def toggle_model(model_id):
    """Flip a model's active state."""
    model = get_model(model_id)
    model.is_active = not model.is_active
    db.session.commit()
    return model


def reorder_models(orders):
    """Set several models' sort_order at once; 400 naming unknown ids (nothing changes then)."""
    ids = {model_id for model_id, _ in orders}
    models = {m.id: m for m in db.session.execute(select(AiModel).where(AiModel.id.in_(ids))).scalars()}
    missing = sorted(ids - set(models))
    if missing:
        raise ApiError(400, "VALIDATION_ERROR", "Unknown model ids: " + ", ".join(map(str, missing)),
                       {"models": [f"unknown model id {i}" for i in missing]})
    for model_id, sort_order in orders:
        models[model_id].sort_order = sort_order
    db.session.commit()
    return list_models()


def discover_models(user_id, provider_key):
    """The model ids the provider's `GET /models` lists, with the key this user would chat with."""
    from chathub.keys.resolve import resolve_provider_credential  # keys depends on the catalog, not back

    credential = resolve_provider_credential(user_id, provider_key)
    db.session.commit()  # end the read transaction: no pooled connection waits on the upstream
    return client.list_models(credential)


def discover(user, provider_key, do_import=False):
    """000's `{"models": [ids]}` for this user; with `do_import` (admins only) also adds the missing ones."""
    if do_import and not user.is_admin:
        raise ApiError(403, "FORBIDDEN", "Only administrators may import models into the catalog")
    models = discover_models(user.id, provider_key)
    body = {"success": True, "models": models}
    if do_import:
        body["imported"] = import_models(provider_key, models)
        body["message"] = f"{body['imported']} model(s) added to the catalog (inactive)"
    return body


def import_models(provider_key, model_ids):
    """Add the discovered models the catalog lacks (inactive, zero prices); returns how many were added."""
    existing = set(db.session.execute(
        select(AiModel.model_name).where(AiModel.model_provider == provider_key)
    ).scalars())
    next_order = (db.session.execute(select(func.max(AiModel.sort_order))).scalar() or 0) + 1
    added = 0
    for model_id in model_ids:
        if model_id in existing or len(model_id) > 200:
            continue
        db.session.add(AiModel(
            model_name=model_id, display_name=model_id, model_provider=provider_key, model_type="chat",
            input_price_per_1k=Decimal("0"), output_price_per_1k=Decimal("0"), is_active=False,
            sort_order=next_order + added, description="Imported by model discovery",
        ))
        existing.add(model_id)
        added += 1
    db.session.commit()
    return added

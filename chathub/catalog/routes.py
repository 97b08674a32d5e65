"""Thin views for `/api/providers` and `/api/models`."""
from flask import g
from flask.views import MethodView

from chathub.auth.guards import admin_required, auth_required
from chathub.catalog import blp, service
from chathub.catalog.schemas import (
    BatchOrderResultSchema,
    BatchOrderSchema,
    DiscoveredSchema,
    DiscoverSchema,
    ModelCreateSchema,
    ModelEnvelopeSchema,
    ModelListQuerySchema,
    ModelSchema,
    ModelUpdateSchema,
    ProviderCreateSchema,
    ProviderEnvelopeSchema,
    ProviderListEnvelopeSchema,
    ProviderListQuerySchema,
    ProviderUpdateSchema,
)
from chathub.schemas import MessageSchema


@blp.route("/providers")
class Providers(MethodView):
    """The provider catalog."""

    @auth_required
    @blp.arguments(ProviderListQuerySchema, location="query")
    @blp.response(200, ProviderListEnvelopeSchema)
    def get(self, args):
        """Active providers by sort_order (admins may add `include_inactive=true`)."""
        include_inactive = args["include_inactive"] and g.user.is_admin
        return {"success": True, "data": service.list_providers(include_inactive), "message": "OK"}

    @admin_required
    @blp.arguments(ProviderCreateSchema)
    @blp.response(201, ProviderEnvelopeSchema)
    @blp.alt_response(409, response="CONFLICT", description="The provider_key is taken")
    def post(self, data):
        """Create a provider."""
        return {"success": True, "data": service.create_provider(data), "message": "Provider created"}


@blp.route("/providers/<int:provider_id>")
class ProviderById(MethodView):
    """One provider."""

    @auth_required
    @blp.response(200, ProviderEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, provider_id):
        """One provider (deactivated ones included)."""
        return {"success": True, "data": service.get_provider(provider_id), "message": "OK"}

    @admin_required
    @blp.arguments(ProviderUpdateSchema)
    @blp.response(200, ProviderEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data, provider_id):
        """Change a provider's name, default base URL, order or state (`provider_key` is fixed)."""
        return {"success": True, "data": service.update_provider(provider_id, data), "message": "Provider updated"}

    @admin_required
    @blp.response(200, ProviderEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, provider_id):
        """Soft delete: the provider becomes inactive; its models and keys stay but cannot start chats."""
        return {"success": True, "data": service.deactivate_provider(provider_id), "message": "Provider disabled"}


@blp.route("/models")
class Models(MethodView):
    """The model catalog."""

    @blp.arguments(ModelListQuerySchema, location="query")
    @blp.response(200, ModelSchema(many=True))
    def get(self, args):
        """Every model (001's bare list) by sort_order; filters `active_only`, `provider`, `type`. Public."""
        return service.list_models(args["active_only"], args.get("provider"), args.get("type"))

    @admin_required
    @blp.arguments(ModelCreateSchema)
    @blp.response(201, ModelEnvelopeSchema)
    @blp.alt_response(409, response="CONFLICT", description="The provider already has this model")
    def post(self, data):
        """Create a model for an existing provider (prices per 1k tokens)."""
        return {"success": True, "data": service.create_model(data), "message": "Model created"}


@blp.route("/models/<int:model_id>")
class ModelById(MethodView):
    """One model."""

    @blp.response(200, ModelEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, model_id):
        """One model. Public, like the list."""
        return {"success": True, "data": service.get_model(model_id), "message": "OK"}

    @admin_required
    @blp.arguments(ModelUpdateSchema)
    @blp.response(200, ModelEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="The provider already has a model with this name")
    def put(self, data, model_id):
        """Change any of a model's fields."""
        return {"success": True, "data": service.update_model(model_id, data), "message": "Model updated"}

    @admin_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, model_id):
        """Remove a model from the catalog."""
        service.delete_model(model_id)
        return {"success": True, "message": "Model deleted"}


@blp.route("/models/<int:model_id>/toggle")
class ModelToggle(MethodView):
    """Enable or disable a model."""

    @admin_required
    @blp.response(200, ModelEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, model_id):
        """Flip `is_active`."""
        model = service.toggle_model(model_id)
        return {"success": True, "data": model, "message": "Model enabled" if model.is_active else "Model disabled"}


@blp.route("/models/batch-update-order")
class ModelOrder(MethodView):
    """Reorder models."""

    @admin_required
    @blp.arguments(BatchOrderSchema)
    @blp.response(200, BatchOrderResultSchema)
    def post(self, data):
        """Set `sort_order` of several models; answers the whole list in its new order."""
        return {"success": True, "data": service.reorder_models(data["orders"]), "message": "Order updated"}


@blp.route("/models/discover")
class ModelDiscovery(MethodView):
    """Ask a provider which models it serves (000)."""

    @auth_required
    @blp.arguments(DiscoverSchema)
    @blp.response(200, DiscoveredSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown provider")
    @blp.alt_response(502, response="BAD_GATEWAY", description="AI_API_ERROR: the provider failed or rejected the key")
    @blp.alt_response(504, response="GATEWAY_TIMEOUT", description="UPSTREAM_TIMEOUT")
    def post(self, data):
        """`{"models": [ids]}` from the provider's `GET /models`, using the key this user would chat with.
        With `"import": true` (admins) the missing ones are added to the catalog, inactive."""
        return service.discover(g.user, data["provider_key"], data["import_"])

"""Thin views for `/api/apikeys...` and `/api/test-key`."""
from flask import g
from flask.views import MethodView

from chathub.auth.guards import admin_required, auth_required
from chathub.keys import blp, service
from chathub.keys.schemas import (
    ApiKeyCreateSchema,
    ApiKeyEnvelopeSchema,
    ApiKeyListEnvelopeSchema,
    ApiKeyUpdateSchema,
    AvailableEnvelopeSchema,
    DistributedEnvelopeSchema,
    DistributeSchema,
    DistributionListEnvelopeSchema,
    KeyTestResultSchema,
    KeyTestSchema,
    TestKeySchema,
)
from chathub.schemas import MessageSchema

UPSTREAM_ERRORS = {
    502: "AI_API_ERROR: the provider rejected the key, failed or could not be reached",
    504: "UPSTREAM_TIMEOUT: the provider did not answer in time",
}


def documents_upstream_errors(view):
    """Document the 403/502/504 answers of an operation that calls the provider."""
    view = blp.alt_response(502, response="BAD_GATEWAY", description=UPSTREAM_ERRORS[502])(view)
    return blp.alt_response(504, response="GATEWAY_TIMEOUT", description=UPSTREAM_ERRORS[504])(view)


@blp.route("/apikeys")
class ApiKeys(MethodView):
    """The caller's keys."""

    @auth_required
    @blp.response(200, ApiKeyListEnvelopeSchema)
    def get(self):
        """Own keys, masked, newest first (admins also see every organization key)."""
        return {"success": True, "data": service.list_keys(g.user), "message": "OK"}

    @auth_required
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, ApiKeyEnvelopeSchema)
    def post(self, data):
        """Save a key for a provider; stored encrypted, answered masked. `base_url` defaults to the provider's."""
        return {"success": True, "data": service.create_key(g.user, data), "message": "API key saved"}


@blp.route("/apikeys/available")
class AvailableKeys(MethodView):
    """What the caller may chat with."""

    @auth_required
    @blp.response(200, AvailableEnvelopeSchema)
    def get(self):
        """Own active keys, organization keys distributed to the caller, and server keys, on active providers."""
        return {"success": True, "data": service.available(g.user), "message": "OK"}


@blp.route("/apikeys/<int:key_id>")
class ApiKeyById(MethodView):
    """One of the caller's keys (another user's id answers 404)."""

    @auth_required
    @blp.response(200, ApiKeyEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, key_id):
        """One key, masked."""
        return {"success": True, "data": service.get_owned_or_404(g.user, key_id), "message": "OK"}

    @auth_required
    @blp.arguments(ApiKeyUpdateSchema)
    @blp.response(200, ApiKeyEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data, key_id):
        """Change the key, provider, base URL, name or state."""
        return {"success": True, "data": service.update_key(g.user, key_id, data), "message": "API key updated"}

    @auth_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, key_id):
        """Delete the key (an organization key is taken back from everyone)."""
        service.delete_key(g.user, key_id)
        return {"success": True, "message": "API key deleted"}


@blp.route("/apikeys/<int:key_id>/toggle")
class ApiKeyToggle(MethodView):
    """Enable or disable a key."""

    @auth_required
    @blp.response(200, ApiKeyEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, key_id):
        """Flip `is_active`."""
        key = service.toggle_key(g.user, key_id)
        return {"success": True, "data": key, "message": "API key enabled" if key.is_active else "API key disabled"}


@blp.route("/apikeys/<int:key_id>/test")
class ApiKeyTest(MethodView):
    """Test a stored key."""

    @auth_required
    @blp.arguments(KeyTestSchema, required=False)
    @blp.response(200, KeyTestResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @documents_upstream_errors
    def post(self, data, key_id):
        """One tiny upstream call with this key (a 1-token chat with `model`, else the provider's first
        active model, else `GET /models`)."""
        return service.check_stored_key(g.user, key_id, data.get("model"))


@blp.route("/apikeys/<int:key_id>/distribute")
class ApiKeyDistribute(MethodView):
    """Give an organization key to users (admin)."""

    @admin_required
    @blp.arguments(DistributeSchema)
    @blp.response(200, DistributedEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, key_id):
        """Distribute to `user_ids` (already distributed users are kept; revoked ones get it back)."""
        return {"success": True, "data": service.distribute(g.user, key_id, data["user_ids"]),
                "message": "API key distributed"}


@blp.route("/apikeys/<int:key_id>/distribute/<int:user_id>")
class ApiKeyRevoke(MethodView):
    """Take an organization key back from one user (admin)."""

    @admin_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, key_id, user_id):
        """Revoke: the user's next chat no longer uses this key."""
        service.revoke(g.user, key_id, user_id)
        return {"success": True, "message": "Distribution revoked"}


@blp.route("/apikeys/<int:key_id>/distributions")
class ApiKeyDistributions(MethodView):
    """Who has an organization key (admin)."""

    @admin_required
    @blp.response(200, DistributionListEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, key_id):
        """Every distribution of the key: user, when, by whom, and whether still active."""
        return {"success": True, "data": service.distributions(g.user, key_id), "message": "OK"}


@blp.route("/test-key")
class TestKey(MethodView):
    """000's key test."""

    @auth_required
    @blp.arguments(TestKeySchema)
    @blp.response(200, KeyTestResultSchema)
    @documents_upstream_errors
    def post(self, data):
        """`{"ok": true}` when a 1-token chat with `model` succeeds using the key this user's chats would use."""
        return service.check_model(g.user.id, data["model"])

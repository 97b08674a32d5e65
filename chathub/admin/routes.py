"""Thin views for `/api/admin` user management."""
from flask import g
from flask.views import MethodView

from chathub.admin import blp
from chathub.auth.guards import admin_required
from chathub.schemas import MessageSchema, page_size_of
from chathub.stats.system import with_statistics
from chathub.users import service as users
from chathub.users.schemas import (
    AdminCreatedSchema,
    AdminCreateUserSchema,
    AdminUserPageSchema,
    StatusActionSchema,
    StatusUpdateSchema,
    UserEnvelopeSchema,
    UserListQuerySchema,
)


@blp.route("/users")
class AdminUsers(MethodView):
    """Accounts, for administrators."""

    @admin_required
    @blp.arguments(UserListQuerySchema, location="query")
    @blp.response(200, AdminUserPageSchema)
    def get(self, args):
        """Users (003) with their `statistics`: `page`, `page_size` (default 20), `search`, `role`, `is_active`."""
        items, pagination = users.list_users(
            args["page"], page_size_of(args), args.get("search"), args.get("role"), args.get("is_active")
        )
        return {"success": True, "data": {"items": with_statistics(items), "pagination": pagination}, "message": "OK"}

    @admin_required
    @blp.arguments(AdminCreateUserSchema)
    @blp.response(201, AdminCreatedSchema)
    @blp.alt_response(409, response="CONFLICT", description="USER_ALREADY_EXISTS")
    def post(self, data):
        """Create a user from email and password (000); the username defaults to the email's name."""
        username = data.get("username") or users.username_from_email(data["email"])
        user = users.create_user(username, data["email"], data["password"], data["role"])
        return {"ok": True, "success": True, "user": user, "data": user}


@blp.route("/users/<int:user_id>/status")
class AdminUserStatus(MethodView):
    """Enable or disable an account (never one's own)."""

    @admin_required
    @blp.arguments(StatusActionSchema)
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data, user_id):
        """000: `{"action": "disable"|"enable"}`."""
        users.set_active(users.get_user(user_id), data["action"] == "enable", acting_user_id=g.user.id)
        return {"ok": True, "success": True, "message": "Status updated"}

    @admin_required
    @blp.arguments(StatusUpdateSchema)
    @blp.response(200, UserEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data, user_id):
        """003: `{"is_active": bool, "reason": "..."}`."""
        user = users.set_active(users.get_user(user_id), data["is_active"], g.user.id, data.get("reason"))
        return {"success": True, "data": user, "message": "Status updated"}

"""Thin views for `/api/users`."""
import secrets

from flask import g
from flask.views import MethodView

from chathub.auth.guards import admin_required, auth_required
from chathub.schemas import MessageSchema, page_size_of
from chathub.users import blp, service
from chathub.users.schemas import (
    PasswordResetResultSchema,
    ProfileUpdateSchema,
    ResetPasswordSchema,
    UserEnvelopeSchema,
    UserListQuerySchema,
    UserPageSchema,
    UserUpdateSchema,
)

USERS_PAGE_SIZE = 10  # 001 documents per_page default 10


@blp.route("")
class Users(MethodView):
    """All accounts (admin)."""

    @admin_required
    @blp.arguments(UserListQuerySchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args):
        """Users, newest first; `page`, `per_page`/`page_size` (default 10), `search`, `role`, `is_active`."""
        items, pagination = service.list_users(
            args["page"], page_size_of(args, USERS_PAGE_SIZE),
            args.get("search"), args.get("role"), args.get("is_active"),
        )
        return {"success": True, "data": {"items": items, "pagination": pagination}, "message": "OK"}


@blp.route("/profile")
class Profile(MethodView):
    """The caller's own account."""

    @auth_required
    @blp.response(200, UserEnvelopeSchema)
    def get(self):
        """The current user's profile."""
        return {"success": True, "data": g.user, "message": "OK"}

    @auth_required
    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, UserEnvelopeSchema)
    @blp.alt_response(409, response="CONFLICT", description="USER_ALREADY_EXISTS")
    def put(self, data):
        """Change username, email, model preference, or password (with `current_password`)."""
        if "new_password" in data:
            service.change_own_password(g.user, data["current_password"], data["new_password"])
        user = service.update_user(g.user, data)
        return {"success": True, "data": user, "message": "Profile updated"}


@blp.route("/<int:user_id>")
class UserById(MethodView):
    """One account (admin)."""

    @admin_required
    @blp.response(200, UserEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id):
        """One user."""
        return {"success": True, "data": service.get_user(user_id), "message": "OK"}

    @admin_required
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="USER_ALREADY_EXISTS")
    def put(self, data, user_id):
        """Change a user's username, email, role, subscription or active state."""
        user = service.get_user(user_id)
        if "is_active" in data and data["is_active"] != user.is_active:
            service.set_active(user, data.pop("is_active"), acting_user_id=g.user.id)
        if data.get("role") == "user" and user.id == g.user.id:
            data.pop("role")
        return {"success": True, "data": service.update_user(user, data, by_admin=True), "message": "User updated"}

    @admin_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, user_id):
        """Disable a user (soft delete: their data is kept)."""
        service.soft_delete(service.get_user(user_id), g.user.id)
        return {"success": True, "message": "User disabled"}


@blp.route("/<int:user_id>/reset-password")
class ResetPassword(MethodView):
    """Admin password reset."""

    @admin_required
    @blp.arguments(ResetPasswordSchema, required=False)
    @blp.response(200, PasswordResetResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, user_id):
        """Set a new password (or generate one, returned once); the user's sessions end."""
        user = service.get_user(user_id)
        given = data.get("new_password") or data.get("password")
        password = given or secrets.token_urlsafe(12)
        service.set_password(user, password)
        body = {"success": True, "message": "Password reset"}
        if not given:
            body["temporary_password"] = password
        return body

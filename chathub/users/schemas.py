"""Schemas for accounts: what a user looks like on the wire and what may be changed."""
from marshmallow import ValidationError, fields, validate, validates_schema

from chathub.schemas import BaseSchema, PageQuerySchema, UtcDateTime, data_schema, paged_schema
from chathub.users.models import ROLES

USERNAME = [
    validate.Length(min=3, max=50),
    validate.Regexp(r"^[A-Za-z0-9_.\-]+$", error="Only letters, digits, '.', '_' and '-'"),
]
PASSWORD = validate.Length(min=8, max=128)
EMAIL_LENGTH = validate.Length(max=255)


class UserSchema(BaseSchema):
    """An account as every endpoint shows it (never the password hash)."""

    id = fields.Integer()
    username = fields.String()
    email = fields.String()
    role = fields.String()
    subscription_type = fields.String()
    is_active = fields.Boolean()
    model_preference = fields.String(allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    last_login_at = UtcDateTime(allow_none=True)
    deleted_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class UserListQuerySchema(PageQuerySchema):
    """001's `/api/users` filters (and 003's `is_active`)."""

    search = fields.String(validate=validate.Length(max=100))
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = fields.Boolean()


class UserUpdateSchema(BaseSchema):
    """What an admin may change on an account."""

    username = fields.String(validate=USERNAME)
    email = fields.Email(validate=EMAIL_LENGTH)
    role = fields.String(validate=validate.OneOf(ROLES))
    subscription_type = fields.String(validate=validate.Length(min=1, max=32))
    is_active = fields.Boolean()


class ProfileUpdateSchema(BaseSchema):
    """What users may change on their own account (password needs the current one)."""

    username = fields.String(validate=USERNAME)
    email = fields.Email(validate=EMAIL_LENGTH)
    model_preference = fields.String(allow_none=True, validate=validate.Length(max=200))
    current_password = fields.String(validate=validate.Length(max=128))
    new_password = fields.String(validate=PASSWORD)

    @validates_schema
    def _password_pair(self, data, **kwargs):
        if "new_password" in data and not data.get("current_password"):
            raise ValidationError("Required to set a new password", "current_password")


class ResetPasswordSchema(BaseSchema):
    """Admin reset: a given password, or none to have one generated and returned once."""

    new_password = fields.String(validate=PASSWORD)
    password = fields.String(validate=PASSWORD)


class AdminCreateUserSchema(BaseSchema):
    """000's `POST /api/admin/users`: email and password (username and role optional)."""

    email = fields.Email(required=True, validate=EMAIL_LENGTH)
    password = fields.String(required=True, validate=PASSWORD)
    username = fields.String(validate=USERNAME)
    role = fields.String(validate=validate.OneOf(ROLES), load_default="user")


class StatusActionSchema(BaseSchema):
    """000's `PATCH /api/admin/users/:id/status`."""

    action = fields.String(required=True, validate=validate.OneOf(["disable", "enable"]))


class StatusUpdateSchema(BaseSchema):
    """003's `PUT /api/admin/users/{id}/status`."""

    is_active = fields.Boolean(required=True)
    reason = fields.String(validate=validate.Length(max=500))


class UserStatisticsSchema(BaseSchema):
    """003's per-user totals in the admin list."""

    total_conversations = fields.Integer()
    total_messages = fields.Integer()
    total_tokens = fields.Integer()
    total_cost = fields.Float()


class AdminUserSchema(UserSchema):
    """A user in the admin list, with usage statistics."""

    statistics = fields.Nested(UserStatisticsSchema)


class ShortUserSchema(BaseSchema):
    """000's compact user."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()


UserEnvelopeSchema = data_schema(UserSchema, "UserEnvelope")
UserPageSchema = paged_schema(UserSchema, "User")
AdminUserPageSchema = paged_schema(AdminUserSchema, "AdminUser")


class PasswordResetResultSchema(BaseSchema):
    """The outcome of an admin password reset; a generated password is shown once."""

    success = fields.Boolean()
    message = fields.String()
    temporary_password = fields.String()


class AdminCreatedSchema(BaseSchema):
    """000's answer to user creation."""

    ok = fields.Boolean()
    success = fields.Boolean()
    user = fields.Nested(ShortUserSchema)
    data = fields.Nested(UserSchema)

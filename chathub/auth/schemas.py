"""Schemas for sign-in, registration and tokens (001, 003 and 000 shapes together)."""
from marshmallow import ValidationError, fields, validate, validates_schema

from chathub.schemas import BaseSchema
from chathub.users.models import ROLES
from chathub.users.schemas import EMAIL_LENGTH, PASSWORD, USERNAME, UserSchema


class LoginSchema(BaseSchema):
    """`username` (001) or `email` (000) with `password`; either field may hold either."""

    username = fields.String(validate=validate.Length(max=255))
    email = fields.String(validate=validate.Length(max=255))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))

    @validates_schema
    def _needs_login(self, data, **kwargs):
        if not (data.get("username") or "").strip() and not (data.get("email") or "").strip():
            raise ValidationError("Username or email is required", "username")


class RegisterSchema(BaseSchema):
    """001/003 registration."""

    username = fields.String(required=True, validate=USERNAME)
    email = fields.Email(required=True, validate=EMAIL_LENGTH)
    password = fields.String(required=True, validate=PASSWORD)
    confirm_password = fields.String(validate=validate.Length(max=128))

    @validates_schema
    def _passwords_match(self, data, **kwargs):
        if "confirm_password" in data and data["confirm_password"] != data.get("password"):
            raise ValidationError("Passwords do not match", "confirm_password")


class AdminRegisterSchema(RegisterSchema):
    """001's admin registration: may also set the role and subscription."""

    role = fields.String(validate=validate.OneOf(ROLES), load_default="user")
    subscription_type = fields.String(validate=validate.Length(min=1, max=32), load_default="free")


class RefreshSchema(BaseSchema):
    """The refresh token may come in the body as well as the header or cookie."""

    refresh_token = fields.String(validate=validate.Length(max=4096))


class ProfileSchema(BaseSchema):
    """000's profile block."""

    role = fields.String()
    modelPreference = fields.String(allow_none=True)


class TokenDataSchema(BaseSchema):
    """003's `data` block of a sign-in."""

    user = fields.Nested(UserSchema)
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class LoginResponseSchema(BaseSchema):
    """001's login answer, plus 003's tokens and 000's `ok`/`profile`."""

    success = fields.Boolean()
    ok = fields.Boolean()
    token = fields.String()
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    user = fields.Nested(UserSchema)
    profile = fields.Nested(ProfileSchema)
    data = fields.Nested(TokenDataSchema)
    message = fields.String()


class VerifyResponseSchema(BaseSchema):
    """001's verify answer."""

    success = fields.Boolean()
    valid = fields.Boolean()
    user = fields.Nested(UserSchema)
    data = fields.Nested(UserSchema)
    message = fields.String()


class SessionResponseSchema(BaseSchema):
    """000's session answer; `{authenticated: false}` when signed out."""

    authenticated = fields.Boolean()
    user = fields.Nested(UserSchema)
    profile = fields.Nested(ProfileSchema)


class RefreshResponseSchema(BaseSchema):
    """003's refresh answer."""

    success = fields.Boolean()
    data = fields.Nested(TokenDataSchema)
    access_token = fields.String()
    token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    message = fields.String()

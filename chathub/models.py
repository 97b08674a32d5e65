"""Every table, imported in one place so migrations and `create_all` see the whole schema."""
from chathub.auth.models import RevokedToken  # noqa: F401
from chathub.settings_store import RuntimeSetting  # noqa: F401
from chathub.users.models import User  # noqa: F401

"""Every table, imported in one place so migrations and `create_all` see the whole schema."""
from chathub.auth.models import RevokedToken  # noqa: F401
from chathub.catalog.models import AiModel, Provider  # noqa: F401
from chathub.characters.models import Character  # noqa: F401
from chathub.conversations.models import Conversation, Message  # noqa: F401
from chathub.keys.models import ApiKey, ApiKeyDistribution  # noqa: F401
from chathub.presets.models import Preset  # noqa: F401
from chathub.settings_store import RuntimeSetting  # noqa: F401
from chathub.stats.models import UsageRecord, UserQuota  # noqa: F401
from chathub.users.models import User  # noqa: F401

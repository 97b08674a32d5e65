"""LightTavern's API (`/api/cloud/*`, seed 000) in its camelCase shapes, over ChatHub's own services:
characters (chathub.characters), chats (ChatHub conversations bound to a character), the user's model
setting, and the `text/plain` chat stream used by `POST /api/chat` for 000-shaped bodies (cloud.chat)."""
from chathub.blueprint import Blueprint

blp = Blueprint("cloud", __name__, url_prefix="/api/cloud", description="LightTavern: characters, chats, settings")

from chathub.cloud import character_routes, chat_routes, settings_routes  # noqa: E402,F401

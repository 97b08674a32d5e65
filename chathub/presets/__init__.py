"""Presets (`/api/presets`, 002): a user's named system prompt + sampling parameters + optional model.

A chat applies one with `preset_id` through `service.preset_for_chat`.
"""
from chathub.blueprint import Blueprint

blp = Blueprint(
    "presets", __name__, url_prefix="/api/presets", description="Chat presets (system prompt and parameters)"
)

from chathub.presets import routes  # noqa: E402,F401

"""Runtime configuration rules: each setting's environment default, the admin's overrides (stored with
`chathub.settings_store`, so every worker sees them within seconds), and readers for other packages."""
from flask import current_app

from chathub.settings_store import runtime_setting, set_runtime_settings

# Runtime key -> the app config key holding its environment default.
DEFAULTS = {
    "allow_registration": "CHATHUB_ALLOW_REGISTRATION",
    "default_model": "CHATHUB_DEFAULT_MODEL",
    "default_max_history": "CHATHUB_DEFAULT_MAX_HISTORY",
    "rate_limit_default": "RATELIMIT_DEFAULT",
    "rate_limit_login": "RATELIMIT_LOGIN",
}


def setting(key):
    """The effective value of one runtime setting."""
    default = current_app.config.get(DEFAULTS[key])
    return runtime_setting(key, default)


def effective_config():
    """Every runtime setting's effective value."""
    values = {key: setting(key) for key in DEFAULTS}
    values["default_model"] = values["default_model"] or None
    return values


def update_config(changes):
    """Store the given overrides (None removes an override); returns the effective settings."""
    changes = dict(changes)
    if "default_model" in changes and changes["default_model"] is not None:
        changes["default_model"] = changes["default_model"].strip() or None
    for key in ("rate_limit_default", "rate_limit_login"):
        if changes.get(key) is not None:
            changes[key] = changes[key].strip()
    if changes:
        set_runtime_settings(changes)
    return effective_config()


def default_model():
    """The model a chat uses when neither the request nor the user names one (None if unset)."""
    return setting("default_model") or None


def default_max_history():
    """How many earlier messages a chat sends upstream when the request does not say."""
    return int(setting("default_max_history"))

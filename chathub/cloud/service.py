"""LightTavern-specific composition over ChatHub's services: the current model and the model preference."""
from chathub.config_api.service import default_model
from chathub.users import service as users


def current_model(user):
    """The model LightTavern shows: the user's preference, else the server's default (None if neither)."""
    return user.model_preference or default_model()


def set_model_preference(user, model):
    """Store the user's model preference (None clears it); returns the now-current model."""
    users.update_user(user, {"model_preference": model.strip() if model else None})
    return current_model(user)

"""Talking to OpenAI-compatible model providers: the pooled HTTP client (`client`) and the base-URL
policy that keeps stored URLs from reaching internal hosts (`urlguard`). Nothing here is Flask-specific
beyond reading settings from the current app."""

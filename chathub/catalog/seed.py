"""Default catalog for `flask chathub seed`: five providers with their real base URLs and a handful of
current models each. Idempotent: only what is missing is added; admin edits are never overwritten.

Prices are approximate list prices in USD per 1k tokens (input, output) at the time of writing;
admins adjust them in the catalog. Local Ollama models cost nothing.
"""
from decimal import Decimal

from sqlalchemy import select

from chathub.catalog.models import AiModel, Provider
from chathub.extensions import db

PROVIDERS = [
    ("openai", "OpenAI", "https://api.openai.com/v1"),
    ("siliconflow", "SiliconFlow", "https://api.siliconflow.cn/v1"),
    ("deepseek", "DeepSeek", "https://api.deepseek.com/v1"),
    ("openrouter", "OpenRouter", "https://openrouter.ai/api/v1"),
    ("ollama", "Ollama (local)", "http://localhost:11434/v1"),
]

# (provider, model_name, display_name, max_tokens, vision, tools, input per 1k, output per 1k)
MODELS = [
    ("openai", "gpt-4o-mini", "GPT-4o mini", 128000, True, True, "0.00015", "0.0006"),
    ("openai", "gpt-4o", "GPT-4o", 128000, True, True, "0.0025", "0.01"),
    ("openai", "gpt-4.1", "GPT-4.1", 1047576, True, True, "0.002", "0.008"),
    ("openai", "gpt-4.1-mini", "GPT-4.1 mini", 1047576, True, True, "0.0004", "0.0016"),
    ("siliconflow", "Qwen/QwQ-32B", "QwQ-32B", 32768, False, False, "0.00014", "0.00056"),
    ("siliconflow", "deepseek-ai/DeepSeek-V3", "DeepSeek-V3 (SiliconFlow)", 65536, False, True, "0.00028", "0.00112"),
    ("siliconflow", "Qwen/Qwen2.5-7B-Instruct", "Qwen2.5-7B", 32768, False, True, "0", "0"),
    ("deepseek", "deepseek-chat", "DeepSeek Chat", 65536, False, True, "0.00027", "0.0011"),
    ("deepseek", "deepseek-reasoner", "DeepSeek Reasoner", 65536, False, False, "0.00055", "0.00219"),
    ("openrouter", "openai/gpt-4o-mini", "GPT-4o mini (OpenRouter)", 128000, True, True, "0.00015", "0.0006"),
    ("openrouter", "anthropic/claude-3.5-sonnet", "Claude 3.5 Sonnet", 200000, True, True, "0.003", "0.015"),
    ("openrouter", "google/gemini-2.0-flash-001", "Gemini 2.0 Flash", 1048576, True, True, "0.0001", "0.0004"),
    ("openrouter", "meta-llama/llama-3.1-8b-instruct", "Llama 3.1 8B", 131072, False, False, "0.00002", "0.00005"),
    ("ollama", "llama3.2", "Llama 3.2 (local)", 131072, False, True, "0", "0"),
    ("ollama", "qwen2.5", "Qwen 2.5 (local)", 32768, False, True, "0", "0"),
]


def seed_catalog():
    """Add the default providers and models that are missing; returns a one-line summary."""
    existing_providers = set(db.session.execute(select(Provider.provider_key)).scalars())
    added_providers = 0
    for order, (key, name, url) in enumerate(PROVIDERS):
        if key not in existing_providers:
            db.session.add(Provider(provider_key=key, display_name=name, default_base_url=url, is_active=True,
                                    sort_order=order))
            added_providers += 1
    db.session.flush()
    existing_models = set(db.session.execute(select(AiModel.model_provider, AiModel.model_name)).tuples())
    added_models = 0
    for order, (provider, model, display, max_tokens, vision, tools, price_in, price_out) in enumerate(MODELS):
        if (provider, model) in existing_models:
            continue
        db.session.add(AiModel(
            model_name=model, display_name=display, model_provider=provider, model_type="chat",
            max_tokens=max_tokens, supports_streaming=True, supports_function_calling=tools, supports_vision=vision,
            input_price_per_1k=Decimal(price_in), output_price_per_1k=Decimal(price_out), is_active=True,
            sort_order=order,
        ))
        added_models += 1
    db.session.commit()
    return f"catalog: {added_providers} provider(s) and {added_models} model(s) added"

"""What is sent upstream for a character chat: the system prompt built from the card, and the history window.

The system prompt holds, in order and only when present: the card's own system prompt, who the model
plays, persona, description, scenario, style, rules, the example dialogue (when `include_examples`), and
the card's post-history instructions. `{{char}}` and `{{user}}` (community card macros) are replaced.
"""
import re

SECTIONS = (
    ("persona", "Persona"),
    ("description", "Description"),
    ("scenario", "Scenario"),
    ("style", "Style"),
    ("rules", "Rules"),
)
MACRO = re.compile(r"\{\{\s*(char|user)\s*\}\}", re.IGNORECASE)


def fill_macros(text, character_name, user_name):
    """`text` with `{{char}}`/`{{user}}` replaced by the character's and the user's names."""
    return MACRO.sub(lambda m: character_name if m.group(1).lower() == "char" else user_name, text or "")


def build_system_prompt(character, include_examples=False, user_name="User"):
    """The system prompt for a chat with `character` (a Character row or anything with its attributes)."""
    name = character.name
    parts = []
    if (character.system_prompt or "").strip():
        parts.append(character.system_prompt.strip())
    parts.append(f"You are {name}. Stay in character as {name} and reply as {name} would.")
    for attribute, label in SECTIONS:
        value = (getattr(character, attribute, "") or "").strip()
        if value:
            parts.append(f"{label}: {value}")
    if include_examples and (character.mes_example or "").strip():
        parts.append(f"Example dialogue:\n{character.mes_example.strip()}")
    if (character.post_history_instructions or "").strip():
        parts.append(character.post_history_instructions.strip())
    return fill_macros("\n\n".join(parts), name, user_name)


def history_window(messages, max_history):
    """The last `max_history` of `messages` ([{role, content}], oldest first); 0 keeps none."""
    if max_history is None:
        return list(messages)
    return list(messages)[-max_history:] if max_history > 0 else []


def character_messages(character, history, user_input, include_examples=False, max_history=None, user_name="User"):
    """The upstream `messages`: system prompt, the history window, then the new user message."""
    messages = [{"role": "system", "content": build_system_prompt(character, include_examples, user_name)}]
    for message in history_window(history, max_history):
        if message.get("role") in ("user", "assistant") and message.get("content"):
            messages.append({"role": message["role"], "content": message["content"]})
    messages.append({"role": "user", "content": user_input})
    return messages

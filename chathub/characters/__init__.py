"""Character cards: the model, rules, covers, community card import/export and the character system prompt.

Their HTTP views are LightTavern's `/api/cloud/characters*` (chathub/cloud); the chat relay uses
`service.get_character` and `prompt.character_messages`.
"""

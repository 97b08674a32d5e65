"""Community character cards (SillyTavern and others): Character Card V2/V3 JSON, and PNG images carrying
the card in a `chara` (base64 V2 JSON) or `ccv3` (base64 V3 JSON) text chunk.

Import maps the card's `name, description, personality, scenario, first_mes, mes_example, system_prompt,
post_history_instructions, alternate_greetings, tags, creator_notes` onto our card and keeps every other
non-empty field in `metadata["card"]`. Export writes a V2 card; LightTavern-only fields (greeting, style,
rules, our metadata) ride in `data.extensions.chathub`, so an exported card imports back unchanged.
"""
import base64
import binascii
import io
import json

from PIL import Image

from chathub.characters import pngtext
from chathub.errors import ApiError

# Card field -> our field, for the fields both know.
FIELD_MAP = {
    "name": "name",
    "description": "description",
    "personality": "persona",
    "scenario": "scenario",
    "first_mes": "first_mes",
    "mes_example": "mes_example",
    "system_prompt": "system_prompt",
    "post_history_instructions": "post_history_instructions",
    "alternate_greetings": "alternate_greetings",
    "tags": "tags",
    "creator_notes": "creator_notes",
}
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
EXTENSION = "chathub"
PLACEHOLDER_SIZE = (400, 600)


def card_error(message):
    """A 400 about the uploaded file."""
    return ApiError(400, "VALIDATION_ERROR", f"Invalid character card: {message}", {"file": [message]})


def _empty(value):
    return value in (None, "", [], {})


def read_card_file(raw):
    """(card JSON object, PNG bytes or None) from an uploaded `.json` or `.png` file; 400 if neither."""
    if not raw:
        raise card_error("the file is empty")
    if pngtext.is_png(raw):
        try:
            entries = pngtext.text_entries(raw)
        except pngtext.PngError as exc:
            raise card_error(f"the PNG is damaged ({exc})") from None
        encoded = entries.get("ccv3") or entries.get("chara")
        if not encoded:
            raise card_error("the PNG has no 'chara' or 'ccv3' text chunk (it is an image, not a card)")
        try:
            text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise card_error("the PNG's card chunk is not base64-encoded UTF-8 JSON") from None
        return _parse_json(text), raw
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise card_error("expected a Character Card JSON file or a PNG card") from None
    return _parse_json(text), None


def _parse_json(text):
    try:
        card = json.loads(text)
    except ValueError:
        raise card_error("the card is not valid JSON") from None
    if not isinstance(card, dict):
        raise card_error("the card must be a JSON object")
    return card


def card_to_fields(card):
    """Our card fields (name, persona, ..., metadata) from a V1, V2 or V3 card object."""
    spec = card.get("spec")
    if spec in ("chara_card_v2", "chara_card_v3"):
        data = card.get("data")
        if not isinstance(data, dict):
            raise card_error(f"a {spec} card needs a 'data' object")
        version = card.get("spec_version")
    elif spec is None and "name" in card:
        data, spec, version = card, "chara_card_v1", None
    else:
        raise card_error(f"unsupported card spec {spec!r} (expected chara_card_v2 or chara_card_v3)")
    fields = {ours: data[theirs] for theirs, ours in FIELD_MAP.items() if data.get(theirs) is not None}
    rest = {k: v for k, v in data.items() if k not in FIELD_MAP and k != "extensions" and not _empty(v)}
    extensions = data.get("extensions") if isinstance(data.get("extensions"), dict) else {}
    ours = extensions.get(EXTENSION) if isinstance(extensions.get(EXTENSION), dict) else None
    others = {k: v for k, v in extensions.items() if k != EXTENSION}
    if others:
        rest["extensions"] = others
    if ours is not None:
        for key in ("greeting", "style", "rules", "first_mes"):
            if ours.get(key) is not None:
                fields[key] = ours[key]
        metadata = dict(ours["metadata"]) if isinstance(ours.get("metadata"), dict) else {}
    else:
        metadata = {"origin": "card-import", "spec": spec}
        if version is not None:
            metadata["spec_version"] = version
    if rest:
        metadata["card"] = rest
    fields["metadata"] = metadata
    return fields


def character_to_card(character):
    """A Character Card V2 object for `character` (with V1 fields at the top for older readers)."""
    metadata = dict(character.card_metadata or {})
    kept = metadata.pop("card", None)
    kept = dict(kept) if isinstance(kept, dict) else {}
    extensions = dict(kept.pop("extensions", None) or {})
    first_mes = character.first_mes or character.greeting
    ours = {"greeting": character.greeting, "style": character.style, "rules": character.rules, "metadata": metadata}
    if first_mes != character.first_mes:
        ours["first_mes"] = character.first_mes
    extensions[EXTENSION] = ours
    data = {
        **kept,
        "name": character.name,
        "description": character.description,
        "personality": character.persona,
        "scenario": character.scenario,
        "first_mes": first_mes,
        "mes_example": character.mes_example,
        "creator_notes": character.creator_notes,
        "system_prompt": character.system_prompt,
        "post_history_instructions": character.post_history_instructions,
        "alternate_greetings": list(character.alternate_greetings or []),
        "tags": list(character.tags or []),
        "creator": kept.get("creator", ""),
        "character_version": kept.get("character_version", ""),
        "extensions": extensions,
    }
    legacy = {key: data[key] for key in V1_FIELDS}
    return {**legacy, "spec": "chara_card_v2", "spec_version": "2.0", "data": data}


def strip_card_chunks(png):
    """The PNG without any text chunks (the cover keeps the picture, not the card)."""
    return pngtext.rebuild(png, drop_text=("*",))


def png_card(card, cover_bytes):
    """A PNG of the cover (converted if needed, a plain placeholder without one) carrying `card` in `chara`."""
    if cover_bytes and pngtext.is_png(cover_bytes):
        png = cover_bytes
    else:
        if cover_bytes:
            with Image.open(io.BytesIO(cover_bytes)) as image:
                picture = image.convert("RGBA")
        else:
            picture = Image.new("RGB", PLACEHOLDER_SIZE, (58, 63, 82))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        png = buffer.getvalue()
    encoded = base64.b64encode(json.dumps(card, ensure_ascii=False).encode("utf-8")).decode("ascii")
    return pngtext.rebuild(png, drop_text=("chara", "ccv3"), add_text={"chara": encoded})

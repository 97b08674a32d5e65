"""Community character cards: Character Card V2/V3 JSON and PNG (`chara`/`ccv3` text chunks) imported,
and V2 cards exported (JSON, or PNG with the `chara` chunk) that import back unchanged."""
import base64
import io
import json

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from chathub.characters import pngtext

V2_CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Seraphina",
        "description": "A guardian of the forest.",
        "personality": "Kind, protective",
        "scenario": "{{user}} wakes up in {{char}}'s glade.",
        "first_mes": "*Seraphina smiles* You're awake!",
        "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: A friend.",
        "creator_notes": "Works best with long replies.",
        "system_prompt": "Write vividly.",
        "post_history_instructions": "Stay gentle.",
        "alternate_greetings": ["Hello, traveller.", "Rest now."],
        "tags": ["fantasy", "female"],
        "creator": "someone",
        "character_version": "1.2",
        "character_book": {"entries": [{"keys": ["glade"], "content": "A sunlit clearing."}]},
        "extensions": {"talkativeness": "0.5", "depth_prompt": {"prompt": "x", "depth": 4}},
    },
}


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    """Each test stores covers in its own folder."""
    monkeypatch.setitem(app.config, "CHATHUB_UPLOAD_DIR", str(tmp_path / "uploads"))


def png_card(card=None, key="chara", size=(40, 60), extra=None):
    """A PNG as SillyTavern writes it: the picture with the card as base64 JSON in a tEXt chunk."""
    info = PngInfo()
    if card is not None:
        info.add_text(key, base64.b64encode(json.dumps(card).encode()).decode())
    for name, text in (extra or {}).items():
        info.add_text(name, text)
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def upload(client, headers, raw, filename="card.png"):
    return client.post("/api/cloud/characters/import", headers=headers,
                       data={"file": (io.BytesIO(raw), filename)}, content_type="multipart/form-data")


def comparable(character):
    """A character without what naturally differs between two copies."""
    differ = ("id", "createdAt", "updatedAt", "coverImageUrl", "coverImageDataUrl")
    return {k: v for k, v in character.items() if k not in differ}


def test_v2_json_card_is_mapped_onto_our_card(client, alice):
    response = upload(client, alice, json.dumps(V2_CARD).encode(), "seraphina.json")
    assert response.status_code == 201, response.get_json()
    character = response.get_json()["character"]
    assert character["name"] == "Seraphina" and character["persona"] == "Kind, protective"
    assert character["description"] == "A guardian of the forest."
    assert character["first_mes"] == "*Seraphina smiles* You're awake!"
    assert character["mes_example"].startswith("<START>") and character["system_prompt"] == "Write vividly."
    assert character["post_history_instructions"] == "Stay gentle." and character["creator_notes"].startswith("Works")
    assert character["alternate_greetings"] == ["Hello, traveller.", "Rest now."]
    assert character["tags"] == ["fantasy", "female"] and character["coverImageUrl"] is None
    meta = character["metadata"]
    assert meta["origin"] == "card-import" and meta["spec"] == "chara_card_v2"
    assert meta["card"]["creator"] == "someone" and meta["card"]["character_book"]["entries"][0]["keys"] == ["glade"]
    assert meta["card"]["extensions"]["talkativeness"] == "0.5"
    # It is an ordinary character now.
    listed = client.get("/api/cloud/characters", headers=alice).get_json()["characters"]
    assert [c["name"] for c in listed] == ["Seraphina"]


def test_v3_json_card(client, alice):
    card = {"spec": "chara_card_v3", "spec_version": "3.0",
            "data": {**V2_CARD["data"], "name": "Nova", "nickname": "Nov", "group_only_greetings": ["Hi all"]}}
    character = upload(client, alice, json.dumps(card).encode(), "nova.json").get_json()["character"]
    assert character["name"] == "Nova" and character["metadata"]["spec"] == "chara_card_v3"
    assert character["metadata"]["card"]["nickname"] == "Nov"


def test_png_card_with_chara_chunk_becomes_character_with_cover(client, alice):
    raw = png_card(V2_CARD)
    response = upload(client, alice, raw)
    assert response.status_code == 201, response.get_json()
    character = response.get_json()["character"]
    assert character["name"] == "Seraphina"
    cover = client.get(character["coverImageUrl"])
    assert cover.status_code == 200 and cover.headers["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(cover.data)) as image:
        assert image.size == (40, 60)
    # The stored cover is the picture, not the card.
    assert pngtext.text_entries(cover.data) == {}


def test_ccv3_chunk_wins_over_chara(client, alice):
    v3 = {"spec": "chara_card_v3", "spec_version": "3.0", "data": {**V2_CARD["data"], "name": "From V3"}}
    info = PngInfo()
    info.add_text("chara", base64.b64encode(json.dumps(V2_CARD).encode()).decode())
    info.add_text("ccv3", base64.b64encode(json.dumps(v3).encode()).decode())
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    assert upload(client, alice, buffer.getvalue()).get_json()["character"]["name"] == "From V3"


def test_export_json_is_a_v2_card(client, alice):
    created = client.post("/api/cloud/characters", headers=alice, json={
        "name": "Luna", "persona": "Calm", "greeting": "Hi!", "style": "Poetic", "rules": "Be kind",
        "mes_example": "<START>", "tags": ["moon"], "metadata": {"origin": "user"},
    }).get_json()["character"]
    response = client.get(f"/api/cloud/characters/{created['id']}/export?format=json", headers=alice)
    assert response.status_code == 200 and response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "Luna.json" in disposition
    card = json.loads(response.data)
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    data = card["data"]
    mapped = (data["name"], data["personality"], data["first_mes"], data["mes_example"])
    assert mapped == ("Luna", "Calm", "Hi!", "<START>")
    assert data["extensions"]["chathub"]["style"] == "Poetic"
    # The default format is json.
    assert json.loads(client.get(f"/api/cloud/characters/{created['id']}/export", headers=alice).data) == card


def test_png_export_imports_back_unchanged(client, alice):
    imported = upload(client, alice, png_card(V2_CARD)).get_json()["character"]
    patched = client.patch(f"/api/cloud/characters/{imported['id']}", headers=alice,
                           json={"name": "Seraphina", "greeting": "Welcome", "style": "Lyrical", "rules": "No harm"})
    original = patched.get_json()["character"]
    exported = client.get(f"/api/cloud/characters/{original['id']}/export?format=png", headers=alice)
    assert exported.status_code == 200 and exported.mimetype == "image/png"
    entries = pngtext.text_entries(exported.data)
    card = json.loads(base64.b64decode(entries["chara"]))
    assert card["spec"] == "chara_card_v2" and card["data"]["character_book"] == V2_CARD["data"]["character_book"]
    with Image.open(io.BytesIO(exported.data)) as image:
        assert image.size == (40, 60)  # the cover picture
    again = upload(client, alice, exported.data).get_json()["character"]
    assert comparable(again) == comparable(original)
    assert again["coverImageUrl"] and again["coverImageUrl"] != original["coverImageUrl"]


def test_export_round_trip_without_cover_or_first_mes(client, alice):
    original = client.post("/api/cloud/characters", headers=alice, json={
        "name": "Plain", "greeting": "Only a greeting", "metadata": {"origin": "user", "version": "v1"},
    }).get_json()["character"]
    exported = client.get(f"/api/cloud/characters/{original['id']}/export?format=png", headers=alice)
    card = json.loads(base64.b64decode(pngtext.text_entries(exported.data)["chara"]))
    assert card["data"]["first_mes"] == "Only a greeting"  # other tools see the greeting
    again = upload(client, alice, exported.data).get_json()["character"]
    assert comparable(again) == comparable(original)


@pytest.mark.parametrize("raw, filename, reason", [
    (b"", "empty.json", "empty"),
    (b"\xff\xfe\x00garbage", "x.bin", "expected a character card json"),
    (b"{not json", "x.json", "not valid json"),
    (b"[1, 2]", "x.json", "json object"),
    (json.dumps({"spec": "chara_card_v9", "data": {}}).encode(), "x.json", "unsupported card spec"),
    (json.dumps({"spec": "chara_card_v2", "data": "x"}).encode(), "x.json", "'data' object"),
    (json.dumps({"spec": "chara_card_v2", "data": {"description": "no name"}}).encode(), "x.json", "name"),
    (json.dumps({"spec": "chara_card_v2", "data": {"name": "x", "tags": "notalist"}}).encode(), "x.json", "tags"),
    (png_card(None), "plain.png", "no 'chara' or 'ccv3'"),
    (png_card(None, extra={"chara": "%%%not base64"}), "bad.png", "base64"),
    (png_card(V2_CARD)[:-30], "truncated.png", "damaged"),
])
def test_bad_card_files_are_400_with_a_reason(client, alice, raw, filename, reason):
    response = upload(client, alice, raw, filename)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert reason.lower() in (body["error"] + json.dumps(body.get("details", {}))).lower()


def test_import_needs_a_file_and_respects_the_size_limit(client, alice, app, monkeypatch):
    response = client.post("/api/cloud/characters/import", headers=alice, data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "file" in response.get_json()["details"]
    monkeypatch.setitem(app.config, "CHATHUB_CARD_MAX_BYTES", 100)
    assert upload(client, alice, json.dumps(V2_CARD).encode(), "big.json").status_code == 413


def test_export_needs_a_known_format_and_an_owned_character(client, alice, user_headers):
    created = client.post("/api/cloud/characters", headers=alice, json={"name": "Mine"}).get_json()["character"]
    url = f"/api/cloud/characters/{created['id']}/export"
    assert client.get(url + "?format=svg", headers=alice).status_code == 400
    assert client.get(url, headers=user_headers("bob")).status_code == 404
    assert client.get("/api/cloud/characters/not-a-real-id/export", headers=alice).status_code == 404


def test_card_files_get_the_same_text_rules_as_json_bodies(client, alice):
    card = {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": "Se\x00ra", "description": "fine", "tags": ["a\x00b"]}}
    stored = upload(client, alice, json.dumps(card).encode(), "nul.json")
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json()["character"]["name"] == "Sera" and stored.get_json()["character"]["tags"] == ["ab"]
    raw = '{"spec": "chara_card_v2", "data": {"name": "Ok", "description": "lone \\ud833 surrogate"}}'
    refused = upload(client, alice, raw.encode(), "surrogate.json")
    assert refused.status_code == 400 and "card.description" in refused.get_json()["details"]

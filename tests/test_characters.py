"""LightTavern's characters (`/api/cloud/characters`, 000 §2): default characters, CRUD, soft delete,
isolation, and cover images (checked, stored under generated names, served back)."""
import base64
import io
import os

import pytest
from PIL import Image

from chathub.characters.models import Character
from chathub.extensions import db


def image_bytes(kind="PNG", size=(8, 8), color=(200, 30, 30)):
    """A real image of the given Pillow format."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, kind)
    return buffer.getvalue()


def data_url(raw, mime="image/png"):
    """A base64 data URL."""
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def create(client, headers, **fields):
    """Create a character; returns the JSON character (asserting 201)."""
    response = client.post("/api/cloud/characters", headers=headers, json={"name": "Bob", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["character"]


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    """Each test stores covers in its own folder."""
    monkeypatch.setitem(app.config, "CHATHUB_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def listed_ids(client, headers):
    """The ids of the characters the user's list shows."""
    return [c["id"] for c in client.get("/api/cloud/characters", headers=headers).get_json()["characters"]]


def covers_on_disk(app):
    folder = os.path.join(app.config["CHATHUB_UPLOAD_DIR"], "covers")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_covers_go_under_instance_uploads_by_default(client, alice, app, monkeypatch):
    monkeypatch.setitem(app.config, "CHATHUB_UPLOAD_DIR", "")
    character = create(client, alice, coverImageDataUrl=data_url(image_bytes()))
    name = character["coverImageUrl"].rsplit("/", 1)[1]
    assert os.path.isfile(os.path.join(app.instance_path, "uploads", "covers", name))


def test_first_list_writes_three_defaults_once(client, alice, app):
    first = client.get("/api/cloud/characters", headers=alice).get_json()["characters"]
    assert [c["name"] for c in first] == ["Aria", "Inspector Reed", "The Storyteller"]
    assert all(c["metadata"]["origin"] == "system-seed" and c["greeting"] and c["persona"] for c in first)
    assert len(client.get("/api/cloud/characters", headers=alice).get_json()["characters"]) == 3
    for character in first:
        assert client.delete(f"/api/cloud/characters/{character['id']}", headers=alice).get_json() == {"ok": True}
    # Deleting every character does not bring the defaults back.
    assert client.get("/api/cloud/characters", headers=alice).get_json() == {"characters": []}


def test_a_user_who_created_first_gets_no_defaults(client, alice):
    create(client, alice, name="Mine")
    assert [c["name"] for c in client.get("/api/cloud/characters", headers=alice).get_json()["characters"]] == ["Mine"]


def test_create_get_patch_delete(client, alice, app):
    card = {
        "name": "  Luna  ", "persona": "A moon spirit", "description": "Silver", "greeting": "Hello!",
        "first_mes": "Hi there", "scenario": "Night", "style": "Poetic", "rules": "No spoilers",
        "metadata": {"origin": "user", "version": "v1"}, "tags": ["moon"], "id": "ignored-id",
    }
    character = create(client, alice, **card)
    assert character["name"] == "Luna" and character["id"] != "ignored-id"
    assert {k: character[k] for k in ("persona", "greeting", "first_mes", "rules", "tags", "metadata")} == {
        "persona": "A moon spirit", "greeting": "Hello!", "first_mes": "Hi there", "rules": "No spoilers",
        "tags": ["moon"], "metadata": {"origin": "user", "version": "v1"},
    }
    assert character["createdAt"].endswith("Z") and character["coverImageUrl"] is None
    url = f"/api/cloud/characters/{character['id']}"
    assert client.get(url, headers=alice).get_json()["character"] == character

    patched = client.patch(url, headers=alice, json={"name": "Luna II", "persona": None, "style": "Terse"})
    assert patched.status_code == 200
    body = patched.get_json()["character"]
    assert (body["name"], body["persona"], body["style"], body["scenario"]) == ("Luna II", "", "Terse", "Night")

    assert client.delete(url, headers=alice).get_json() == {"ok": True}
    assert client.get(url, headers=alice).status_code == 404
    assert client.patch(url, headers=alice, json={"name": "x"}).status_code == 404
    assert client.delete(url, headers=alice).status_code == 404
    assert character["id"] not in listed_ids(client, alice)
    with app.app_context():
        assert db.session.get(Character, character["id"]).deleted_at is not None  # soft delete keeps the row


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": 5}, "name"),
    ({"name": "ok", "persona": ["not", "text"]}, "persona"),
    ({"name": "ok", "tags": "moon"}, "tags"),
    ({"name": "ok", "metadata": "nope"}, "metadata"),
])
def test_invalid_cards_are_400_naming_the_field(client, alice, body, field):
    response = client.post("/api/cloud/characters", headers=alice, json=body)
    assert response.status_code == 400
    assert field in response.get_json()["details"]
    assert response.get_json()["code"] == "VALIDATION_ERROR"


def test_patch_needs_a_name_as_000_documents(client, alice):
    character = create(client, alice)
    response = client.patch(f"/api/cloud/characters/{character['id']}", headers=alice, json={"persona": "x"})
    assert response.status_code == 400 and "name" in response.get_json()["details"]


def test_another_users_character_is_404(client, alice, user_headers):
    bob = user_headers("bob")
    character = create(client, alice)
    url = f"/api/cloud/characters/{character['id']}"
    assert client.get(url, headers=bob).status_code == 404
    assert client.patch(url, headers=bob, json={"name": "stolen"}).status_code == 404
    assert client.delete(url, headers=bob).status_code == 404
    assert client.get(url + "/export", headers=bob).status_code == 404
    assert client.get(url, headers=alice).get_json()["character"]["name"] == "Bob"
    assert character["id"] not in listed_ids(client, bob)


def test_characters_need_a_signed_in_user(client):
    assert client.get("/api/cloud/characters").status_code == 401
    assert client.post("/api/cloud/characters", json={"name": "x"}).status_code == 401


@pytest.mark.parametrize("kind, mime, extension", [
    ("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"),
    ("WEBP", "image/webp", "webp"), ("GIF", "image/gif", "gif"),
])
def test_cover_is_stored_and_served(client, alice, app, kind, mime, extension):
    raw = image_bytes(kind)
    character = create(client, alice, coverImageDataUrl=data_url(raw, mime))
    url = character["coverImageUrl"]
    assert url.startswith("/api/cloud/covers/") and url.endswith("." + extension)
    assert character["coverImageDataUrl"] == url
    served = client.get(url)
    assert served.status_code == 200 and served.data == raw
    assert served.headers["Content-Type"] == mime and served.headers["X-Content-Type-Options"] == "nosniff"
    assert covers_on_disk(app) == [url.rsplit("/", 1)[1]]


@pytest.mark.parametrize("value, reason", [
    ("data:image/svg+xml;base64," + base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg'/>").decode(), "svg"),
    (data_url(image_bytes("JPEG")), "claims to be PNG but is JPEG"),
    ("data:image/png;base64,!!!notbase64", "base64"),
    (data_url(b"\x89PNG\r\n\x1a\nnot really a png"), "could not be decoded"),
    ("data:text/html;base64,PGgxPmhpPC9oMT4=", "data:image"),
    ("../../etc/passwd", "data:image"),
    ("https://example.com/cover.png", "data:image"),
])
def test_bad_covers_are_refused_with_400(client, alice, app, value, reason):
    response = client.post("/api/cloud/characters", headers=alice, json={"name": "x", "coverImageDataUrl": value})
    assert response.status_code == 400
    body = response.get_json()
    assert reason.lower() in (body["error"] + str(body["details"])).lower()
    assert "coverImageDataUrl" in body["details"]
    assert covers_on_disk(app) == []


def test_cover_size_limit(client, alice, app, monkeypatch):
    monkeypatch.setitem(app.config, "CHATHUB_COVER_MAX_BYTES", 1000)
    noisy = Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3))
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG")
    response = client.post("/api/cloud/characters", headers=alice,
                           json={"name": "x", "coverImageDataUrl": data_url(buffer.getvalue())})
    assert response.status_code == 400 and "larger than 1000 bytes" in response.get_json()["error"]


def test_cover_kept_replaced_and_removed(client, alice, app):
    character = create(client, alice, coverImageDataUrl=data_url(image_bytes()))
    url = f"/api/cloud/characters/{character['id']}"
    first_cover = character["coverImageUrl"]
    # Sending back what the API returned keeps the cover (absolute URLs too).
    kept = client.patch(url, headers=alice, json={"name": "Bob", "coverImageDataUrl": "http://localhost" + first_cover})
    assert kept.get_json()["character"]["coverImageUrl"] == first_cover
    # A new image replaces it, and the old file goes.
    gif = data_url(image_bytes("GIF"), "image/gif")
    replaced = client.patch(url, headers=alice, json={"name": "Bob", "coverImageDataUrl": gif})
    second_cover = replaced.get_json()["character"]["coverImageUrl"]
    assert second_cover != first_cover and client.get(first_cover).status_code == 404
    assert client.get(second_cover).status_code == 200
    # Another user's cover URL is not accepted as "keep".
    other = create(client, alice, name="Other", coverImageDataUrl=data_url(image_bytes()))
    refused = client.patch(url, headers=alice, json={"name": "Bob", "coverImageDataUrl": other["coverImageUrl"]})
    assert refused.status_code == 400
    # null removes it.
    removed = client.patch(url, headers=alice, json={"name": "Bob", "coverImageDataUrl": None})
    assert removed.get_json()["character"]["coverImageUrl"] is None
    assert client.get(second_cover).status_code == 404
    assert len(covers_on_disk(app)) == 1  # only the other character's cover remains


@pytest.mark.parametrize("name", ["..%2F..%2Fchathub.db", "abc.png", "0" * 32 + ".svg", "%2e%2e"])
def test_cover_urls_never_reach_other_files(client, name):
    assert client.get(f"/api/cloud/covers/{name}").status_code == 404


def test_nul_characters_are_dropped_and_lone_surrogates_refused(client, alice):
    raw = '{"name": "a\\u0000b", "tags": ["x\\u0000"], "unknown\\u0000": 1}'
    response = client.post("/api/cloud/characters", headers=alice, data=raw, content_type="application/json")
    assert response.status_code == 201 and response.get_json()["character"]["name"] == "ab"
    assert response.get_json()["character"]["tags"] == ["x"]
    raw = '{"name": "ok", "persona": "lone \\ud833 surrogate"}'
    response = client.post("/api/cloud/characters", headers=alice, data=raw, content_type="application/json")
    assert response.status_code == 400 and "persona" in response.get_json()["details"]

"""Conversations: 001's list/messages/rename/delete, 003's create/get/pagination/search/filters, 004's
skip/limit, 000's append/clear, export, and strict per-user isolation."""
import json

import pytest

from tests.conftest import bearer, login


def create(client, headers, **body):
    response = client.post("/api/conversations", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def append(client, headers, conversation_id, role, content):
    response = client.post(f"/api/conversations/{conversation_id}/messages", json={"role": role, "content": content},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_with_title_and_metadata_then_get_it(client, alice):
    data = create(client, alice, title="Python notes", metadata={"tags": ["python", "learning"], "description": "x"})
    assert data["title"] == "Python notes" and data["metadata"]["tags"] == ["python", "learning"]
    assert data["message_count"] == 0 and data["created_at"].endswith("Z")
    body = client.get(f"/api/conversations/{data['id']}", headers=alice).get_json()
    assert body["success"] is True and body["data"]["id"] == data["id"] and body["data"]["messages"] == []


def test_004_name_is_accepted_as_title_and_a_blank_conversation_gets_a_default_title(client, alice):
    assert create(client, alice, name="From 004")["title"] == "From 004"
    assert create(client, alice)["title"] == "New conversation"


def test_messages_come_back_in_order_with_every_field(client, alice):
    conversation = create(client, alice, title="Greeting")
    first = append(client, alice, conversation["id"], "assistant", "Hello, traveller")
    append(client, alice, conversation["id"], "user", "Hi!")
    assert first["ok"] is True and first["data"]["status"] == "complete"
    for path in (f"/api/conversations/{conversation['id']}/messages", f"/api/conversations/{conversation['id']}"):
        body = client.get(path, headers=alice).get_json()
        messages = body["data"] if isinstance(body["data"], list) else body["data"]["messages"]
        assert [(m["role"], m["content"]) for m in messages] == [("assistant", "Hello, traveller"), ("user", "Hi!")]
        assert {"id", "status", "model", "prompt_tokens", "completion_tokens", "total_tokens", "cost",
                "created_at", "finished_at"} <= set(messages[0])
    listed = client.get("/api/conversations", headers=alice).get_json()["data"]["items"][0]
    assert listed["message_count"] == 2 and listed["last_message_at"]


def test_001_rename_and_delete(client, alice):
    conversation = create(client, alice, title="Old")
    append(client, alice, conversation["id"], "user", "keep me?")
    renamed = client.put(f"/api/conversations/{conversation['id']}", json={"title": "New title"}, headers=alice)
    assert renamed.status_code == 200 and renamed.get_json()["data"]["title"] == "New title"
    assert client.delete(f"/api/conversations/{conversation['id']}", headers=alice).get_json()["success"] is True
    assert client.get(f"/api/conversations/{conversation['id']}", headers=alice).status_code == 404
    assert client.get(f"/api/conversations/{conversation['id']}/messages", headers=alice).status_code == 404


def test_update_metadata_and_an_empty_change_changes_nothing(client, alice):
    conversation = create(client, alice, title="T")
    changed = client.put(f"/api/conversations/{conversation['id']}", json={"metadata": {"tags": ["a"]}}, headers=alice)
    assert changed.get_json()["data"]["metadata"] == {"tags": ["a"]}
    assert changed.get_json()["data"]["title"] == "T"
    empty = client.put(f"/api/conversations/{conversation['id']}", json={}, headers=alice)
    assert empty.status_code == 200 and empty.get_json()["data"]["metadata"] == {"tags": ["a"]}
    blank = client.put(f"/api/conversations/{conversation['id']}", json={"title": "  "}, headers=alice)
    assert blank.status_code == 400 and "title" in blank.get_json()["details"]


def test_clear_messages_keeps_the_conversation(client, alice):
    conversation = create(client, alice, title="Clear me")
    append(client, alice, conversation["id"], "user", "one")
    append(client, alice, conversation["id"], "assistant", "two")
    cleared = client.delete(f"/api/conversations/{conversation['id']}/messages", headers=alice).get_json()
    assert cleared["ok"] is True and cleared["deleted"] == 2
    body = client.get(f"/api/conversations/{conversation['id']}", headers=alice).get_json()
    assert body["data"]["title"] == "Clear me" and body["data"]["messages"] == []


def test_pagination_search_and_filters(client, alice):
    for index in range(5):
        create(client, alice, title=f"Python {index}", model="m-1", metadata={"tags": ["py"] if index % 2 else []})
    create(client, alice, title="Cooking 100%", model="m-2")
    page = client.get("/api/conversations?page=2&page_size=2", headers=alice).get_json()["data"]
    assert len(page["items"]) == 2
    assert page["pagination"] == {"page": 2, "page_size": 2, "total": 6, "total_pages": 3, "has_next": True,
                                  "has_prev": True}
    per_page = client.get("/api/conversations?per_page=4", headers=alice).get_json()["data"]
    assert len(per_page["items"]) == 4 and per_page["pagination"]["total_pages"] == 2
    search = client.get("/api/conversations?search=PYTHON", headers=alice).get_json()["data"]
    assert search["pagination"]["total"] == 5 and all("Python" in c["title"] for c in search["items"])
    assert client.get("/api/conversations?search=100%25", headers=alice).get_json()["data"]["pagination"]["total"] == 1
    assert client.get("/api/conversations?search=_", headers=alice).get_json()["data"]["pagination"]["total"] == 0
    assert client.get("/api/conversations?model=m-2", headers=alice).get_json()["data"]["items"][0]["title"] == \
        "Cooking 100%"
    tagged = client.get("/api/conversations?tag=py", headers=alice).get_json()["data"]
    assert tagged["pagination"]["total"] == 2


def test_004_skip_and_limit(client, alice):
    titles = [create(client, alice, title=f"c{index}")["title"] for index in range(5)]
    window = client.get("/api/conversations?skip=1&limit=2", headers=alice).get_json()["data"]
    assert [c["title"] for c in window["items"]] == list(reversed(titles))[1:3]
    assert window["pagination"]["has_prev"] is True and window["pagination"]["has_next"] is True


def test_most_recently_active_first(client, alice):
    older = create(client, alice, title="older")
    create(client, alice, title="newer")
    append(client, alice, older["id"], "user", "bump")
    items = client.get("/api/conversations", headers=alice).get_json()["data"]["items"]
    assert [c["title"] for c in items] == ["older", "newer"]


@pytest.mark.parametrize("query", ["page=0", "page_size=101", "limit=0", "skip=-1", "page=x"])
def test_bad_list_parameters_are_400(client, alice, query):
    response = client.get(f"/api/conversations?{query}", headers=alice)
    assert response.status_code == 400 and response.get_json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("body, field", [({"role": "robot", "content": "x"}, "role"), ({"role": "user"}, "content")])
def test_bad_message_is_400_naming_the_field(client, alice, body, field):
    conversation = create(client, alice, title="T")
    response = client.post(f"/api/conversations/{conversation['id']}/messages", json=body, headers=alice)
    assert response.status_code == 400 and field in response.get_json()["details"]


def test_export_json_and_markdown(client, alice):
    conversation = create(client, alice, title="Trip / plans", metadata={"tags": ["travel"]})
    append(client, alice, conversation["id"], "user", "Where to go?")
    append(client, alice, conversation["id"], "assistant", "**Lisbon**, in spring.")
    exported = client.get(f"/api/conversations/{conversation['id']}/export", headers=alice)
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    disposition = exported.headers["Content-Disposition"]
    assert "attachment" in disposition and ".json" in disposition
    document = json.loads(exported.get_data(as_text=True))
    assert document["title"] == "Trip / plans" and [m["content"] for m in document["messages"]] == [
        "Where to go?", "**Lisbon**, in spring."]
    markdown = client.get(f"/api/conversations/{conversation['id']}/export?format=markdown", headers=alice)
    assert markdown.mimetype == "text/markdown" and ".md" in markdown.headers["Content-Disposition"]
    text = markdown.get_data(as_text=True)
    assert text.startswith("# Trip / plans\n") and "Tags: travel" in text
    assert text.index("## User") < text.index("Where to go?") < text.index("## Assistant") < text.index("**Lisbon**")
    assert client.get(f"/api/conversations/{conversation['id']}/export?format=pdf", headers=alice).status_code == 400


ROUTES = [
    ("get", "/api/conversations/{id}", None),
    ("put", "/api/conversations/{id}", {"title": "mine now"}),
    ("delete", "/api/conversations/{id}", None),
    ("get", "/api/conversations/{id}/messages", None),
    ("post", "/api/conversations/{id}/messages", {"role": "user", "content": "sneaky"}),
    ("delete", "/api/conversations/{id}/messages", None),
    ("get", "/api/conversations/{id}/export", None),
]


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_another_users_conversation_is_404_on_every_route_and_unchanged(app, client, alice, user_headers, method,
                                                                       path, body):
    conversation = create(client, alice, title="Alice's")
    append(client, alice, conversation["id"], "user", "private")
    bob = user_headers("bob")
    url = path.format(id=conversation["id"])
    call = getattr(client, method)
    response = call(url, json=body, headers=bob) if body else call(url, headers=bob)
    assert response.status_code == 404 and response.get_json()["code"] == "CONVERSATION_NOT_FOUND"
    same = client.get(f"/api/conversations/{conversation['id']}", headers=alice).get_json()["data"]
    assert same["title"] == "Alice's" and [m["content"] for m in same["messages"]] == ["private"]
    assert client.get("/api/conversations", headers=bob).get_json()["data"]["items"] == []


def test_unknown_id_is_404_and_anonymous_is_401(client, alice):
    assert client.get("/api/conversations/nope", headers=alice).status_code == 404
    assert client.get("/api/conversations").status_code == 401


def test_001_login_token_sees_own_conversations(app, client, make_user):
    make_user("carol")
    headers = bearer(login(app.test_client(), "carol")["token"])
    create(client, headers, title="Carol's")
    assert [c["title"] for c in client.get("/api/conversations", headers=headers).get_json()["data"]["items"]] == [
        "Carol's"]

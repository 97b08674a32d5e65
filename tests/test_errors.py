"""Every failure answers the envelope: Flask's own errors, bad JSON, wrong types, oversize bodies, 500s."""
import pytest

from tests.conftest import make_app


def assert_envelope(response, status, code):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["success"] is False and body["code"] == code and isinstance(body["error"], str) and body["error"]
    return body


def test_unknown_path_is_404_envelope(client):
    assert_envelope(client.get("/api/nope"), 404, "NOT_FOUND")


def test_wrong_method_is_405_envelope_with_allow(client):
    response = client.delete("/api/health")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(client):
    response = client.post("/api/auth/login", data="{not json", content_type="application/json")
    assert_envelope(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("body", ['"a string"', "[1, 2]", "null", "42"])
def test_json_that_is_not_an_object_is_400(client, body):
    response = client.post("/api/auth/login", data=body, content_type="application/json")
    assert_envelope(response, 400, "VALIDATION_ERROR")


def test_wrong_content_type_is_400_not_500(client):
    response = client.post("/api/auth/login", data="username=a&password=b", content_type="text/plain")
    assert_envelope(response, 400, "VALIDATION_ERROR")


def test_wrong_types_name_each_field(client):
    response = client.post("/api/auth/register", json={"username": 5, "email": ["x"], "password": {"a": 1}})
    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert set(body["details"]) == {"username", "email", "password"}
    assert all(isinstance(v, list) and v for v in body["details"].values())


def test_unknown_fields_are_ignored(client, make_user):
    make_user("alice")
    response = client.post("/api/auth/login", json={"username": "alice", "password": "password123", "extra": 1})
    assert response.status_code == 200


def test_oversize_body_is_413(database_url, app):
    small = make_app(database_url, MAX_CONTENT_LENGTH=1024).test_client()
    response = small.post("/api/auth/login", data="x" * 5000, content_type="application/json")
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_unexpected_error_is_500_without_internals(database_url, app):
    broken = make_app(database_url)

    @broken.get("/api/boom")
    def boom():
        raise RuntimeError("secret path /etc/passwd and SELECT * FROM users")

    response = broken.test_client().get("/api/boom")
    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "passwd" not in response.get_data(as_text=True) and "SELECT" not in response.get_data(as_text=True)
    assert body["error"] == "Internal server error"


def test_query_validation_is_400_with_details(client, admin):
    response = client.get("/api/users?page=0&page_size=abc", headers=admin)
    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert {"page", "page_size"} <= set(body["details"])


def test_unstorable_text_is_a_400_naming_the_field_never_a_500(client, admin):
    raw = '{"username": "bob", "email": "b\\ud833@example.com", "password": "password123"}'
    response = client.post("/api/auth/register", data=raw, content_type="application/json")
    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert "email" in body["details"]
    nul_query = client.get("/api/users?search=ro%00ot", headers=admin)
    assert [u["username"] for u in nul_query.get_json()["data"]["items"]] == ["root"]
    assert_envelope(client.get("/api/users/1%00", headers=admin), 404, "NOT_FOUND")


def test_nul_characters_in_json_text_are_dropped(client, alice):
    response = client.put("/api/users/profile", json={"model_preference": "gpt\x00-4o"}, headers=alice)
    assert response.status_code == 200 and response.get_json()["data"]["model_preference"] == "gpt-4o"

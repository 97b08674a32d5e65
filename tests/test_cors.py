"""CORS for CORS_ORIGINS with credentials, so a Vue dev server on another port can use cookies."""


def test_preflight_allows_configured_origin_with_credentials(client):
    response = client.options(
        "/api/auth/login",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "Content-Type, X-CSRF-TOKEN"},
    )
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "x-csrf-token" in response.headers["Access-Control-Allow-Headers"].lower()


def test_other_origins_get_no_cors_headers(client):
    response = client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers

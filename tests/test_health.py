"""001's health shape with 003's components; 503 when the database is unreachable."""
from chathub import __version__
from tests.conftest import make_app


def test_health_is_healthy_with_components(client):
    response = client.get("/api/health")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "healthy" and body["message"]
    assert body["version"] == __version__ and body["uptime"] >= 0
    assert body["components"]["database"]["status"] == "healthy"
    assert body["components"]["database"]["response_time_ms"] >= 0


def test_health_is_503_when_database_is_down(tmp_path, app):
    down = make_app(f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite")
    response = down.test_client().get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy" and body["components"]["database"]["status"] == "unhealthy"


def test_health_is_not_rate_limited(database_url, app):
    tight = make_app(database_url, RATELIMIT_DEFAULT="2 per minute").test_client()
    assert all(tight.get("/api/health").status_code == 200 for _ in range(5))

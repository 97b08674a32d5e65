"""The real server: gunicorn with gevent workers from gunicorn.conf.py, on loopback."""
import requests

from tests.conftest import PASSWORD
from tests.support.served import ServedChatHub


def test_gunicorn_serves_the_api_with_gevent_workers(app, database_url, make_user):
    make_user("alice")
    with ServedChatHub(database_url, workers=2, GUNICORN_LOGLEVEL="info") as hub:
        health = requests.get(hub.url + "/api/health", timeout=5)
        assert health.status_code == 200 and health.json()["components"]["database"]["status"] == "healthy"
        login = requests.post(hub.url + "/api/auth/login", json={"username": "alice", "password": PASSWORD}, timeout=5)
        assert login.status_code == 200
        token = login.json()["token"]
        me = requests.get(hub.url + "/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert me.json()["data"]["username"] == "alice"
    logs = hub.logs()
    assert "Using worker: gevent" in logs and logs.count("Booting worker") >= 2
    assert "/api/auth/me" in logs, "the access log records requests"
    assert PASSWORD not in logs and token not in logs

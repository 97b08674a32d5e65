"""Several instances behave as one: two gunicorn instances (2 gevent workers each) on one PostgreSQL
database and one Redis. Runs in the PostgreSQL pass (the scaled deployment's database)."""
import time

import pytest
import requests

from tests.conftest import IS_POSTGRES, PASSWORD
from tests.support.cluster import Cluster

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="the scaled deployment runs on PostgreSQL")


@pytest.fixture(scope="module")
def cluster(database_url, app):
    with Cluster(database_url, redis_port=56379, RATELIMIT_DEFAULT="40 per minute") as running:
        yield running


def sign_in(hub, username):
    response = requests.post(hub.url + "/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_logout_on_a_is_refused_on_b(cluster, make_user):
    make_user("alice")
    headers = sign_in(cluster.a, "alice")
    assert requests.get(cluster.b.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
    assert requests.post(cluster.a.url + "/api/auth/logout", headers=headers, timeout=10).status_code == 200
    assert requests.get(cluster.b.url + "/api/auth/me", headers=headers, timeout=10).status_code == 401


def test_disabled_on_a_is_refused_on_b(cluster, make_user):
    bob = make_user("bob")
    make_user("root", role="admin")
    admin = sign_in(cluster.a, "root")
    bob_headers = sign_in(cluster.b, "bob")
    response = requests.patch(cluster.a.url + f"/api/admin/users/{bob}/status", json={"action": "disable"},
                              headers=admin, timeout=10)
    assert response.status_code == 200
    refused = requests.get(cluster.b.url + "/api/auth/me", headers=bob_headers, timeout=10)
    assert refused.status_code == 403 and refused.json()["code"] == "ACCOUNT_DISABLED"


def test_rate_limit_is_counted_across_instances_and_workers(cluster, make_user):
    cluster.redis.flush()
    make_user("carol")
    headers = sign_in(cluster.a, "carol")
    statuses = []
    for i in range(44):
        hub = cluster.a if i % 2 else cluster.b
        statuses.append(requests.get(hub.url + "/api/auth/me", headers=headers, timeout=10).status_code)
    # 40 per minute for carol in total, whichever instance or worker answered
    assert statuses.count(200) == 40 and statuses.count(429) == 4


def test_runtime_config_change_on_a_applies_on_b(cluster, make_user):
    make_user("root2", role="admin")
    admin = sign_in(cluster.a, "root2")
    changed = requests.put(cluster.a.url + "/api/config", json={"allow_registration": False}, headers=admin, timeout=10)
    assert changed.status_code == 200, changed.text
    body = {"username": "dave", "email": "dave@example.com", "password": PASSWORD}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        refused = requests.post(cluster.b.url + "/api/auth/register", json=body, timeout=10)
        if refused.status_code == 403:
            break
        time.sleep(0.5)
    assert refused.status_code == 403

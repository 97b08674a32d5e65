"""`GET /api/stats/usage`: UTC buckets (hours, days, months and their edges), zero-filled gaps,
provider filters, isolation between users, and 400s for bad dates or ranges."""
from datetime import datetime, timedelta

import pytest

from chathub.timeutil import utcnow
from tests.test_stats import add_usage, user_id_of


def usage(client, headers, **params):
    """The report's data (asserting a 200)."""
    response = client.get("/api/stats/usage", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def refused(client, headers, **params):
    """The 400 envelope for a refused query."""
    response = client.get("/api/stats/usage", query_string=params, headers=headers)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["success"] is False and body["code"] == "VALIDATION_ERROR"
    return body["details"]


@pytest.fixture
def me(client, alice):
    """Alice's user id."""
    return user_id_of(client, alice)


def test_usage_needs_a_signed_in_user(client):
    assert client.get("/api/stats/usage").status_code == 401


def test_daily_buckets_fill_gaps_with_zeros(app, client, alice, me):
    add_usage(app, me, tokens=(100, 50), cost="0.15", at=datetime(2025, 7, 1, 8, 30))
    add_usage(app, me, tokens=(10, 20), cost="0.03", at=datetime(2025, 7, 3, 23, 59, 59))
    add_usage(app, me, tokens=(1, 1), cost="1", at=datetime(2025, 7, 4, 0, 0, 0))  # the day after end_date
    data = usage(client, alice, start_date="2025-07-01", end_date="2025-07-03", granularity="daily")
    assert [(b["date"], b["requests"], b["tokens"]) for b in data["breakdown"]] == [
        ("2025-07-01", 1, 150), ("2025-07-02", 0, 0), ("2025-07-03", 1, 30)]
    assert data["breakdown"][1]["cost"] == 0 and data["breakdown"][0]["cost"] == 0.15
    summary = data["summary"]
    assert (summary["total_requests"], summary["total_tokens"], summary["average_tokens_per_request"]) == (2, 180, 90)
    assert summary["total_cost"] == pytest.approx(0.18) and summary["average_first_token_ms"] == 100
    assert (data["start_date"], data["end_date"]) == ("2025-07-01T00:00:00Z", "2025-07-03T23:59:59Z")


def test_month_edges_fall_in_their_own_month(app, client, alice, me):
    add_usage(app, me, tokens=(5, 5), at=datetime(2024, 1, 31, 23, 59, 59))
    add_usage(app, me, tokens=(7, 7), at=datetime(2024, 2, 1, 0, 0, 0))
    add_usage(app, me, tokens=(1, 2), at=datetime(2024, 2, 29, 12, 0, 0))  # leap day
    data = usage(client, alice, start_date="2023-12-15", end_date="2024-03-01", granularity="monthly")
    assert [(b["date"], b["requests"], b["tokens"]) for b in data["breakdown"]] == [
        ("2023-12", 0, 0), ("2024-01", 1, 10), ("2024-02", 2, 17), ("2024-03", 0, 0)]
    assert data["breakdown"][1]["period_start"] == "2024-01-01T00:00:00Z"
    days = usage(client, alice, start_date="2024-01-31", end_date="2024-02-01")["breakdown"]
    assert [(b["date"], b["tokens"]) for b in days] == [("2024-01-31", 10), ("2024-02-01", 14)]


def test_hourly_buckets_are_utc_hours(app, client, alice, me):
    add_usage(app, me, tokens=(1, 0), at=datetime(2025, 3, 10, 12, 59, 59, 999000))
    add_usage(app, me, tokens=(2, 0), at=datetime(2025, 3, 10, 13, 0, 0))
    add_usage(app, me, tokens=(4, 0), at=datetime(2025, 3, 10, 13, 30, 0))
    # 14:00 at UTC+2 is 12:00 UTC: a bound may carry an offset; the buckets are UTC hours.
    data = usage(client, alice, start_date="2025-03-10T14:00:00+02:00", end_date="2025-03-10T14:59:59Z",
                 granularity="hourly")
    assert [(b["date"], b["tokens"]) for b in data["breakdown"]] == [
        ("2025-03-10T12:00:00Z", 1), ("2025-03-10T13:00:00Z", 6), ("2025-03-10T14:00:00Z", 0)]
    assert data["start_date"] == "2025-03-10T12:00:00Z"
    later = usage(client, alice, start_date="2025-03-10T13:00:00Z", end_date="2025-03-10T13:59:59Z",
                  granularity="hourly")
    assert [(b["date"], b["tokens"]) for b in later["breakdown"]] == [("2025-03-10T13:00:00Z", 6)]
    whole_day = usage(client, alice, start_date="2025-03-10", end_date="2025-03-10", granularity="hourly")
    assert len(whole_day["breakdown"]) == 24 and whole_day["breakdown"][12]["tokens"] == 1


def test_datetime_bounds_are_inclusive_to_the_second(app, client, alice, me):
    add_usage(app, me, tokens=(1, 0), at=datetime(2025, 5, 5, 10, 0, 0))
    add_usage(app, me, tokens=(2, 0), at=datetime(2025, 5, 5, 10, 0, 1))
    data = usage(client, alice, start_date="2025-05-05T10:00:00Z", end_date="2025-05-05T10:00:00Z",
                 granularity="hourly")
    assert data["summary"]["total_tokens"] == 1


def test_filters_by_provider_key_or_id(app, client, alice, me, chat_model):
    chat_model("fake-model-1")  # catalog provider "fake"
    add_usage(app, me, tokens=(1, 1), cost="0.5", provider="fake", model="fake-model-1")
    add_usage(app, me, tokens=(10, 10), cost="2", provider="openai", model="gpt")
    data = usage(client, alice)
    by_provider = {p["provider_key"]: p for p in data["by_provider"]}
    assert by_provider["fake"]["provider_name"] == "Fake" and by_provider["fake"]["tokens"] == 2
    assert by_provider["openai"]["provider_id"] is None and by_provider["openai"]["cost"] == 2
    assert [p["provider_key"] for p in data["by_provider"]] == ["openai", "fake"]  # most used first
    only_fake = usage(client, alice, provider="fake")
    assert only_fake["summary"]["total_tokens"] == 2 and len(only_fake["by_provider"]) == 1
    provider_id = by_provider["fake"]["provider_id"]
    assert usage(client, alice, provider_id=provider_id)["summary"]["total_cost"] == 0.5
    assert usage(client, alice, provider_id=provider_id + 1000)["summary"]["total_requests"] == 0


def test_a_user_never_sees_another_users_usage(app, client, alice, me, user_headers):
    bob_headers = user_headers("bob")
    bob = user_id_of(client, bob_headers)
    add_usage(app, me, tokens=(3, 3))
    add_usage(app, bob, tokens=(500, 500))
    assert usage(client, alice)["summary"]["total_tokens"] == 6
    assert usage(client, bob_headers)["summary"]["total_tokens"] == 1000
    assert sum(b["tokens"] for b in usage(client, alice)["breakdown"]) == 6


def test_default_windows_end_now(app, client, alice, me):
    now = utcnow()
    add_usage(app, me, tokens=(4, 4), at=now - timedelta(minutes=1))
    add_usage(app, me, tokens=(9, 9), at=now - timedelta(days=40))
    daily = usage(client, alice)
    assert daily["granularity"] == "daily" and len(daily["breakdown"]) == 30
    assert daily["breakdown"][-1]["date"] in {now.strftime("%Y-%m-%d"), utcnow().strftime("%Y-%m-%d")}
    assert daily["summary"]["total_tokens"] == 8
    assert len(usage(client, alice, granularity="hourly")["breakdown"]) == 24
    monthly = usage(client, alice, granularity="monthly")
    assert len(monthly["breakdown"]) == 12 and monthly["summary"]["total_tokens"] == 26


@pytest.mark.parametrize("params, field", [
    ({"start_date": "2025-02-30"}, "start_date"),
    ({"end_date": "yesterday"}, "end_date"),
    ({"start_date": "0001-01-01"}, "start_date"),
    ({"start_date": "2025-07-10", "end_date": "2025-07-01"}, "start_date"),
    ({"start_date": "2025-01-01", "end_date": "2025-03-01", "granularity": "hourly"}, "end_date"),
    ({"start_date": "1980-01-01", "end_date": "2025-01-01", "granularity": "daily"}, "end_date"),
    ({"granularity": "weekly"}, "granularity"),
    ({"provider_id": "abc"}, "provider_id"),
])
def test_bad_dates_and_ranges_are_400(client, alice, params, field):
    assert field in refused(client, alice, **params)


def test_a_month_of_hours_is_allowed(client, alice):
    data = usage(client, alice, start_date="2025-01-01", end_date="2025-01-31", granularity="hourly")
    assert len(data["breakdown"]) == 31 * 24

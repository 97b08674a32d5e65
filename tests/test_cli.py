"""`flask chathub create-admin | seed | check`."""
from sqlalchemy import select

from chathub.extensions import db
from chathub.users.models import User


def test_seed_creates_the_first_admin_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["chathub", "seed"])
    assert first.exit_code == 0, first.output
    assert "admin: created admin" in first.output
    second = runner.invoke(args=["chathub", "seed"])
    assert "admin: already present" in second.output
    with app.app_context():
        admins = db.session.execute(select(User).where(User.role == "admin")).scalars().all()
        assert [a.username for a in admins] == ["admin"]


def test_create_admin_creates_or_promotes(app, make_user):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["chathub", "create-admin", "--username", "boss", "--email", "boss@example.com",
                               "--password", "boss-password"])
    assert made.exit_code == 0 and "Created admin boss" in made.output
    make_user("carol")
    promoted = runner.invoke(args=["chathub", "create-admin", "--username", "carol"])
    assert "carol is now an admin" in promoted.output
    with app.app_context():
        assert db.session.execute(select(User.role).where(User.username == "carol")).scalar_one() == "admin"


def test_check_hides_secrets(app):
    app.config["SECRET_KEY"] = "super-secret-value-that-must-not-print"
    app.config["CHATHUB_DEMO_TOKEN"] = ""
    try:
        result = app.test_cli_runner().invoke(args=["chathub", "check"])
    finally:
        app.config["SECRET_KEY"] = "dev-secret-change-me-before-any-real-deployment"
    assert result.exit_code == 0
    assert "super-secret-value" not in result.output and "SECRET_KEY = *** (set)" in result.output
    assert "CHATHUB_ADMIN_PASSWORD = *** (set)" in result.output and "PORT = 5001" in result.output

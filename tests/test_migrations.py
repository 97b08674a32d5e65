"""The Alembic migrations build exactly the schema the models describe, on this run's database kind."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from chathub.extensions import db
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL, make_app


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with nothing in it: a new SQLite file, or a fresh PostgreSQL database."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    admin_url = TEST_DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS chathub_migrations"))
        conn.execute(text("CREATE DATABASE chathub_migrations"))
    yield TEST_DATABASE_URL.rsplit("/", 1)[0] + "/chathub_migrations"
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS chathub_migrations WITH (FORCE)"))
    engine.dispose()


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()

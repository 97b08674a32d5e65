"""Idempotent seed data: the first admin now; providers and models are added by the catalog."""
from chathub.catalog.seed import seed_catalog
from chathub.users.service import ensure_admin

SEEDERS = [seed_catalog]


def seed_all():
    """Run every seeder; yields a line describing what each did."""
    admin = ensure_admin()
    yield f"admin: {'created ' + admin.username if admin else 'already present'}"
    for seeder in SEEDERS:
        yield seeder()

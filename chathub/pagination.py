"""Paginating a SQLAlchemy select into 003's `{items, pagination}` shape."""
import math

from sqlalchemy import func, select

from chathub.extensions import db


def paginate(statement, page, page_size):
    """Run `statement` for one page; returns (items, pagination dict)."""
    total = db.session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    items = db.session.execute(statement.limit(page_size).offset((page - 1) * page_size)).scalars().all()
    total_pages = math.ceil(total / page_size) if total else 0
    return items, {
        "page": page,
        "page_size": page_size,
        "total": total,
        "total_pages": total_pages,
        "has_next": page < total_pages,
        "has_prev": page > 1,
    }

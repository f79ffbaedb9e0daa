"""Small helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from news_etl import warehouse


def rows(dsn: str, query: str, params=()) -> list[tuple]:
    """All rows of one query against the test warehouse."""
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()

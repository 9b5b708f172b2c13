"""The column type of every timestamp (stored and returned as aware UTC) and the declarative base,
which gives a column its type from its annotation unless it names one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, overload

from sqlalchemy import DateTime, Dialect, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that refuses naive datetimes and always comes back aware, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        moment: datetime | str | None = value
        return aware(moment)


@overload
def aware(moment: datetime | str) -> datetime: ...
@overload
def aware(moment: datetime | str | None) -> datetime | None: ...
def aware(moment: datetime | str | None) -> datetime | None:
    """A stored moment as aware UTC: SQLite gives naive UTC text back, to the column type and
    to an aggregate (``max``) alike, which bypasses the column type."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    """``Mapped[datetime]`` is a ``UTCDateTime``; ``Mapped[str]`` a ``String(255)`` (Matrix ids,
    transaction ids: a column of free text names ``Text``, a short code its own length)."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), str: String(255)}

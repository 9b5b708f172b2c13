"""Project groups (members, progress, needs), the initiatives of the panorama, and the audit
trail (with the people each entry names)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class ProjectGroup(Base):
    """A groupe-projet: its identity, its classification and its own room."""

    __tablename__ = "project_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)  # folded name (duplicates)
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(32))
    territory: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    funding: Mapped[str] = mapped_column(Text, default="")
    room_id: Mapped[str | None]
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_project_groups_status", "status", "id"),)


class GroupMember(Base):
    """A person in a group, since when, and whether they are one of its referents."""

    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("project_groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[str] = mapped_column(primary_key=True)
    joined_at: Mapped[datetime]
    referent: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_group_members_user", "user_id"),)


class GroupProgress(Base):
    """One dated entry of a group's progress log."""

    __tablename__ = "group_progress"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("project_groups.id", ondelete="CASCADE"))
    author: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_group_progress_group", "group_id", "created_at"),)


class GroupNeed(Base):
    """Something a group needs (skills, funding, equipment…), until it is met."""

    __tablename__ = "group_needs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("project_groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    met_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_group_needs_group", "group_id"),)


class GroupFunding(Base):
    """Money a group obtained: from whom, how much (in cents of euro), on which day; a group's
    free text ``funding`` stays beside these as its note."""

    __tablename__ = "group_funding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("project_groups.id", ondelete="CASCADE"))
    funder: Mapped[str] = mapped_column(String(120))
    amount_cents: Mapped[int] = mapped_column(Integer)
    obtained_on: Mapped[date] = mapped_column(Date)  # the day, in the club's calendar
    created_by: Mapped[str]
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_group_funding_group", "group_id", "obtained_on"),
                      Index("ix_group_funding_day", "obtained_on"))


class Initiative(Base):
    """An existing transition initiative of the territory (the panorama)."""

    __tablename__ = "initiatives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(32))
    commune: Mapped[str] = mapped_column(String(80))
    contact: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    search_key: Mapped[str] = mapped_column(Text)  # folded name, description and commune
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who changed what, and when (groups, initiatives…)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str]
    subject: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text, default="{}")

    __table_args__ = (Index("ix_audit_subject", "subject", "subject_id", "at"),
                      Index("ix_audit_actor", "actor", "at"))


class AuditPerson(Base):
    """A person an audit entry names besides its actor (``user``: a referent added or removed;
    ``people``: those marked present), by exact id."""

    __tablename__ = "audit_people"
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[str] = mapped_column(primary_key=True)

    __table_args__ = (Index("ix_audit_people_user", "user_id"),)


class CapUse(Base):
    """What an erased person did in the 24 hours before their erasure (an audit entry's kind
    and time, under their id): their daily caps count it until it is a day old, then the
    nightly purge deletes it."""

    __tablename__ = "cap_uses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str]
    subject: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_cap_uses_user", "user_id", "at"),)

"""What members add to the club's collective decisions: comments on polls, supports of a
remontée, the adoption of the cadre de confiance (and the bot's messages that carry it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PollComment(Base):
    """A member's comment on a poll (``!commenter``, or a reply in the poll's thread)."""

    __tablename__ = "poll_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    author: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str | None]  # the thread reply it came from (its redaction removes it)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_poll_comments_poll", "poll_id", "author"),
                      Index("ix_poll_comments_event", "event_id"))


class RemonteeSupport(Base):
    """A member co-signs a remontée (``!remontee soutenir``, or a 👍 on its confirmation)."""

    __tablename__ = "remontee_supports"
    remontee_id: Mapped[int] = mapped_column(ForeignKey("remontees.id", ondelete="CASCADE"),
                                             primary_key=True)
    user_id: Mapped[str] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    reaction_event_id: Mapped[str | None]

    __table_args__ = (Index("ix_remontee_supports_reaction", "reaction_event_id"),)


class CharterAdoption(Base):
    """A member adopted the cadre de confiance, in the version it had then (their latest)."""

    __tablename__ = "charter_adoptions"
    user_id: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    reaction_event_id: Mapped[str | None]  # the ✅ it was given with (its removal withdraws it)

    __table_args__ = (Index("ix_charter_adoptions_reaction", "reaction_event_id"),)


class CharterPost(Base):
    """A message of the bot showing the charter (``!cadre``, a welcome, the call to adopt a
    new version): a ✅ on it adopts the version it showed. ``asked_by``: the member whose
    ``!cadre`` it answers (their latest one in a room is kept for good, the earlier ones go
    with the retention purge)."""

    __tablename__ = "charter_posts"
    txn_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    room_id: Mapped[str]
    posted_at: Mapped[datetime]
    asked_by: Mapped[str | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_charter_posts_asked_by", "asked_by"),)


class CharterVersion(Base):
    """A version of the cadre de confiance that became the club's: the config's text the first
    start it was seen (``poll_id`` none), or a text adopted by a proposal (``poll_id``). The
    club's charter is the one adopted last (``adopted_at``, then ``seq``)."""

    __tablename__ = "charter_versions"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    poll_id: Mapped[int | None] = mapped_column(Integer)  # the proposal that adopted it
    adopted_at: Mapped[datetime]


class CharterProposal(Base):
    """A proposal (a poll of kind ``proposal``) that carries a new version of the charter: its
    label and its text, as the coordinator wrote them."""

    __tablename__ = "charter_proposals"
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"),
                                         primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)

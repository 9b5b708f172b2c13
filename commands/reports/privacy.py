"""Personal data: the optional profile (``!profil``), everything held about a person
(``!mes-donnees``, sent in a direct message) and its erasure (``!oublier-moi``, and the
retention purge of inactive participants). See docs/privacy.md."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from commands.arguments import Choice, Text
from commands.context import Context, Reply
from commands.effects import Post, Upload
from commands.errors import BadArgument, UserError
from commands.ports import RoomUnavailable
from commands.registry import Param, Registry, Role
from commands.text import escape_markdown
from commands.vocabulary import TERRITORIES

if TYPE_CHECKING:
    from storage.repositories import Repositories

CONFIRM_WITHIN = timedelta(minutes=10)
CATEGORIES = Choice((
    ("habitant", ("habitante", "habitants", "resident", "citizen")),
    ("elu", ("elue", "elus", "elected", "councillor", "official")),
    ("entreprise", ("entreprises", "business", "company")),
    ("association", ("asso", "associations", "nonprofit", "ngo")),
    ("etudiant", ("etudiante", "etudiants", "student")),
    ("agent", ("agente", "agents", "staff", "employee")),
), kind="category")
FIELDS = Choice((
    ("territory", ("territoire",)),
    ("commune", ("ville", "village", "town")),
    ("category", ("categorie",)),
    ("clear", ("effacer", "supprimer", "vider", "delete")),
), kind="field")
CONFIRM_WORDS = Choice((("confirm", ("confirmer", "oui", "yes")),), kind="action")
COMMUNE_MAX = 80


def pseudonym() -> str:
    """A stable stand-in for an erased person: random, stored nowhere with their id."""
    return f"anonyme-{secrets.token_hex(8)}"


async def forget_person(repos: Repositories, user_id: str, names: Sequence[str] = ()) -> str:
    """Erases ``user_id``'s personal data (counts kept); returns the pseudonym used. ``names``:
    their display names, erased from the recorded texts too."""
    name = pseudonym()
    await repos.participants.forget(user_id, name, names)
    return name


async def purge_inactive(repos: Repositories, now: datetime, retention: timedelta) -> int:
    """Forgets the participants not seen for ``retention``; returns how many."""
    people = await repos.participants.inactive_since(now - retention)
    for user_id in people:
        await forget_person(repos, user_id)
    return len(people)


def _profile_text(ctx: Context, person: Any) -> str:
    if person is None or person.consent_at is None:
        return ctx.t("profile.empty", prefix=ctx.club.prefix)
    unset = ctx.t("report.not_said")
    territory = ctx.t(f"territory.{person.territory}") if person.territory else unset
    category = ctx.t(f"profile_category.{person.category}") if person.category else unset
    return ctx.t("profile.show", territory=territory,
                 commune=escape_markdown(person.commune) if person.commune else unset,
                 category=category, consent=person.consent_at.astimezone(ctx.club.tz)
                 .strftime("%d/%m/%Y"), prefix=ctx.club.prefix)


def _data_file(ctx: Context, tables: dict[str, Any]) -> bytes:
    document = {"user_id": ctx.sender, "generated_at": ctx.now.isoformat(),
                "controller": ctx.club.name, "tables": tables}
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def register(registry: Registry) -> None:
    """Declares ``!profil``, ``!mes-donnees`` and ``!oublier-moi``."""

    @registry.command("profil", fr=("profil",), en=("profile",), section="privacy",
                      params=(Param("field", FIELDS, required=False),
                              Param("value", Text(max_length=200), required=False, rest=True)))
    async def profil(ctx: Context, field: str | None, value: str | None) -> Reply:
        people = ctx.db().participants
        if field is None:
            return Reply(_profile_text(ctx, await people.get(ctx.sender)))
        if field == "clear":
            if value:
                raise BadArgument("error.too_many_arguments", extra=value[:40])
            cleared = await people.clear_profile(ctx.sender)
            return Reply(ctx.t("profile.cleared" if cleared else "profile.empty",
                               prefix=ctx.club.prefix))
        if not value:
            raise BadArgument("profile.missing_value", field=field, prefix=ctx.club.prefix)
        if field == "territory":
            stored = TERRITORIES.convert(value)
        elif field == "category":
            stored = CATEGORIES.convert(value)
        else:
            stored = " ".join(value.split())
            if len(stored) > COMMUNE_MAX:
                raise BadArgument("error.text_too_long", maximum=COMMUNE_MAX)
        existing = await people.get(ctx.sender)
        first = existing is None or existing.consent_at is None
        person = await people.set_profile(ctx.sender, ctx.now, **{field: stored})
        text = _profile_text(ctx, person)
        if first:
            text = ctx.t("profile.consent") + "\n\n" + text
        return Reply(text)

    @registry.command("mes_donnees", fr=("mes-donnees", "mesdonnees", "donnees"),
                      en=("my-data", "mydata"), section="privacy", role=Role.VISITOR)
    async def mes_donnees(ctx: Context) -> Reply:
        repos = ctx.db()
        room = await repos.participants.direct_room(ctx.sender)
        if room is None:
            try:
                room = await ctx.homeserver().direct_room(ctx.sender)
            except RoomUnavailable as error:
                raise UserError("rgpd.no_direct_room") from error
            await repos.participants.set_direct_room(ctx.sender, room)
        tables = await repos.participants.everything_about(ctx.sender)
        data = _data_file(ctx, tables)
        intro = Reply(ctx.t("rgpd.data_intro", count=sum(len(rows) for rows in tables.values()),
                            prefix=ctx.club.prefix))
        stamp = ctx.now.strftime("%Y%m%d-%H%M%S")
        return Reply(ctx.t("rgpd.data_sent"),
                     effects=(Post(room, intro),
                              Upload(room, f"mes-donnees-{stamp}.json", "application/json", data)))

    @registry.command("oublier_moi", fr=("oublier-moi", "oubliez-moi", "oubliermoi"),
                      en=("forget-me", "forgetme"), section="privacy", role=Role.VISITOR,
                      params=(Param("confirm", CONFIRM_WORDS, required=False),))
    async def oublier_moi(ctx: Context, confirm: str | None) -> Reply:
        people = ctx.db().participants
        if confirm is None:
            await people.ask_forget(ctx.sender, ctx.now)
            return Reply(ctx.t("rgpd.forget_ask", prefix=ctx.club.prefix,
                               minutes=int(CONFIRM_WITHIN.total_seconds() // 60)))
        asked = await people.forget_asked(ctx.sender)
        if asked is None or ctx.now - asked > CONFIRM_WITHIN:
            raise UserError("rgpd.forget_not_asked", prefix=ctx.club.prefix)
        try:
            names = await ctx.homeserver().display_names(ctx.sender)
        except RoomUnavailable:
            names = []
        await forget_person(ctx.db(), ctx.sender, names)
        # No reply to the command: a reply would name the person again (mentions).
        return Reply("", effects=(Post(ctx.room_id, Reply(ctx.t("rgpd.forgotten"))),),
                     forgotten=(ctx.sender,))

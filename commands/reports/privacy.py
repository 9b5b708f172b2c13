"""Personal data: the optional profile (``!profil``), everything held about a person
(``!mes-donnees``, sent in a direct message) and its erasure (``!oublier-moi``; the retention
purge: ``commands.reports.erasure``). See docs/privacy.md."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from commands.arguments import Choice, Text
from commands.context import Club, Context, RoomOutcome
from commands.dates import format_moment
from commands.effects import Effect, Leave, OpenDirectRoom, Outcome, Post, Reply, Upload
from commands.errors import BadArgument, UserError
from commands.i18n import Translator
from commands.limits import check_daily, exempt, keep_daily_use, next_minute
from commands.meetings.registration import give_back_places
from commands.params import Param
from commands.privately import tell_privately
from commands.registry import command
from commands.reports.erasure import erasure_for, forget_person
from commands.roles import Role
from commands.text import escape_markdown, pill
from commands.vocabulary import TERRITORIES

if TYPE_CHECKING:
    from storage.repositories import Repositories

CONFIRM_WITHIN = timedelta(minutes=10)
EXPORT_EVERY = timedelta(hours=1)  # !mes-donnees: at most one file (and direct room) per person
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
DIRECT_ROOM_OPENED = "personal_data"  # the outcome of the direct room opened for !mes-donnees


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


async def _data_posts(repos: Repositories, user: str, room: str, club: Club, t: Translator,
                      now: datetime) -> tuple[Effect, ...]:
    """Everything held about ``user``, posted in their direct ``room``: a few words and the
    JSON file."""
    tables = await repos.personal.everything_about(user)
    document = {"user_id": user, "generated_at": now.isoformat(), "controller": club.name,
                "tables": tables}
    data = json.dumps(document, ensure_ascii=False, indent=2).encode()
    intro = Reply(t("rgpd.data_intro", count=sum(len(rows) for rows in tables.values()),
                    prefix=club.prefix))
    stamp = now.strftime("%Y%m%d-%H%M%S")
    return (Post(room, intro, about=(user,)),
            Upload(room, f"mes-donnees-{stamp}.json", "application/json", data, about=(user,)))


async def direct_room_opened(done: RoomOutcome) -> tuple[Effect, ...]:
    """The direct room of ``!mes-donnees`` is open (remembered, the data posted there), or the
    homeserver refused it (the person is told in the room where they asked)."""
    user = str(done.data["user_id"])
    if done.room_id is None:
        told = Reply(done.t("rgpd.no_direct_room", user=pill(user), prefix=done.club.prefix),
                     mentions=(user,))
        return (Post(done.told_in, told, about=(user,)),)
    await done.repos.participants.set_direct_room(user, done.room_id)
    return await _data_posts(done.repos, user, done.room_id, done.club, done.t, done.now)


@command("profil", fr=("profil",), en=("profile",), section="privacy",
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


@command("mes_donnees", fr=("mes-donnees", "mesdonnees", "donnees"),
         en=("my-data", "mydata"), section="privacy", role=Role.VISITOR)
async def mes_donnees(ctx: Context) -> Reply:
    """Everything held about the sender, sent in their direct room (the known one while they
    are there or invited, else a new one), once per ``EXPORT_EVERY``."""
    repos = ctx.db()
    last = await repos.participants.last_export(ctx.sender)
    if last is not None and ctx.now < last + EXPORT_EVERY:
        again = next_minute(last + EXPORT_EVERY)
        raise UserError("rgpd.data_too_soon", when=format_moment(again, ctx.t.language,
                                                                 ctx.club.tz))
    await repos.participants.exported(ctx.sender, ctx.now)
    # None yet, or one they left (or the bot is no longer in): a new one, then the data
    effects = await tell_privately(
        repos, ctx.homeserver(), ctx.sender,
        lambda room: _data_posts(repos, ctx.sender, room, ctx.club, ctx.t, ctx.now),
        ctx.room_id, Outcome(DIRECT_ROOM_OPENED, {"user_id": ctx.sender}))
    opening = isinstance(effects[0], OpenDirectRoom)
    return Reply(ctx.t("rgpd.data_opening" if opening else "rgpd.data_sent"),
                 effects=tuple(effects))


@command("oublier_moi", fr=("oublier-moi", "oubliez-moi", "oubliermoi"),
         en=("forget-me", "forgetme"), section="privacy", role=Role.VISITOR,
         params=(Param("confirm", CONFIRM_WORDS, required=False),))
async def oublier_moi(ctx: Context, confirm: str | None) -> Reply:
    people = ctx.db().participants
    await check_daily(ctx, "erasures_per_day")
    if confirm is None:
        await people.ask_forget(ctx.sender, ctx.now)
        ask = ctx.t("rgpd.forget_ask", prefix=ctx.club.prefix,
                    minutes=int(CONFIRM_WITHIN.total_seconds() // 60))
        limit = ctx.club.limits.erasures_per_day
        return Reply(ask if exempt(ctx, limit) else
                     f"{ask} {ctx.t('rgpd.forget_limit', limit=limit)}")
    asked = await people.forget_asked(ctx.sender)
    if asked is None or ctx.now - asked > CONFIRM_WITHIN:
        raise UserError("rgpd.forget_not_asked", prefix=ctx.club.prefix)
    repos = ctx.db()
    direct = await people.direct_room(ctx.sender)
    told = await give_back_places(repos, ctx.sender, ctx.club, ctx.t, ctx.now, ctx.homeserver())
    await forget_person(repos, ctx.sender, await erasure_for(repos, ctx.club, ctx.t, ctx.now))
    await keep_daily_use(ctx, "erasures_per_day")
    # No reply to the command: a reply would name the person again (mentions). The bot
    # leaves their direct room, forgotten too; the people given their places are told.
    done = Post(ctx.room_id, Reply(ctx.t("rgpd.forgotten")))
    return Reply("", effects=(done, *told, Leave(direct)) if direct else (done, *told))

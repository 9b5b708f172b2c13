"""``!calendrier``: the links to subscribe to the club's calendar feed that fits the room (a
territory's room: its territory's events; a group's room: the group's; elsewhere: every
event), or, without the web server, how to get each event's ``.ics`` file instead."""

from __future__ import annotations

from commands.context import Context
from commands.effects import Reply
from commands.meetings.calendar import feed_path, subscription_links
from commands.meetings.vocabulary import MEETING_TERRITORIES
from commands.registry import command
from commands.text import escape_markdown

# The territory of the club's rooms by their role (``Club.rooms``).
ROOM_TERRITORIES = {"north": "nord", "south": "sud"}


@command("calendrier", fr=("calendrier", "abonnement"), en=("calendar", "subscribe"),
         section="meetings")
async def calendrier(ctx: Context) -> Reply:
    """The subscription links of the room's feed, and of the whole programme's."""
    if not ctx.club.web_url:
        return Reply(ctx.t("calendar.no_web", prefix=ctx.club.prefix))
    role = next((role for role, room in ctx.club.rooms.items() if room == ctx.room_id), None)
    territory = ROOM_TERRITORIES.get(role or "")
    group = None if role else await ctx.db().groups.by_room(ctx.room_id)
    if territory is not None:
        path = feed_path(territory=territory)
        scope = ctx.t("calendar.of_territory",
                      territory=MEETING_TERRITORIES.label(territory, ctx.t))
    elif group is not None:
        path = feed_path(group_id=group.id)
        scope = ctx.t("calendar.of_group", group=escape_markdown(group.name))
    else:
        path, scope = feed_path(), ctx.t("calendar.of_club")
    lines = [ctx.t("calendar.title", scope=scope), *_links(ctx, path)]
    if path != feed_path():
        lines += [ctx.t("calendar.whole"), *_links(ctx, feed_path())]
    lines.append(ctx.t("calendar.how", site=ctx.club.web_url))
    return Reply("\n".join(lines))


def _links(ctx: Context, path: str) -> list[str]:
    webcal, https = subscription_links(ctx.club.web_url, path)
    return [ctx.t("calendar.webcal", link=webcal), ctx.t("calendar.https", link=https)]

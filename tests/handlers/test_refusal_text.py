"""What a refusal names reads the same in a message's plain body and in its HTML: a user id, a
group's name, a short name, once escaped for Markdown (never twice), and as it is in a code span."""

from __future__ import annotations

from typing import Any

from commands.roles import Role
from tests.handlers.conftest import ALICE, COORDINATOR, Harness
from tests.handlers.rencontres import ORGANISER, held_event

STRANGER = "@eve:elsewhere.org"


async def both_bodies(bot: Harness, line: str, sender: str = COORDINATOR) -> tuple[str, str]:
    content: dict[str, Any] = (await bot.command(line, sender=sender))[0].content
    assert "\\" not in content["body"] and "\\" not in content["formatted_body"], content
    return content["body"], content["formatted_body"]


async def test_a_user_id_in_a_refusal(bot: Harness) -> None:
    bot.roles[STRANGER] = Role.VISITOR
    await held_event(bot)
    body, html = await both_bodies(bot, f"!rencontre action 1 {STRANGER} Réparer la pompe")
    assert body.startswith(f"{STRANGER} n'est pas membre du club")
    assert html.startswith(f"<p>{STRANGER} n'est pas membre du club")


async def test_a_group_named_in_a_refusal(bot: Harness) -> None:
    await bot.command("!projet creer Vélo-école (test) --theme mobilite --territoire sud",
                      sender=COORDINATOR)
    await held_event(bot)
    body, html = await both_bodies(bot, "!rencontre action 1 velo-ecole-test x",
                                   sender=ORGANISER)
    assert "Pour le groupe Vélo-école (test)" in body, body
    assert "Pour le groupe Vélo-école (test)" in html, html
    body, html = await both_bodies(bot, "!rencontre action 1 @bob:example.org x",
                                   sender=ORGANISER)
    assert "Pour @bob:example.org, c" in body and "Pour @bob:example.org, c" in html


async def test_a_short_name_in_a_code_span_of_a_refusal(bot: Harness) -> None:
    for name in ("Atelier vélo", "Jardin"):
        await bot.command(f"!projet creer {name} --theme mobilite --territoire sud")
    body, html = await both_bodies(bot, "!projet modifier jardin identifiant atelier-velo",
                                   sender=ALICE)
    assert "`atelier-velo`" in body and "<code>atelier-velo</code>" in html

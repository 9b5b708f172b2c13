"""``!projet`` and ``!mesprojets`` end to end on real SQLite: every command and every refusal."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.outbox import Outbox, Queued
from commands.roles import Role
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, table_snapshot
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)

BOB = "@bob:example.org"
CAROL = "@carol:example.org"
DAVE = "@dave:example.org"
TABLES = ("project_groups", "group_members", "group_progress", "group_needs", "initiatives",
          "audit_log", "outbox")


async def snapshot(bot: Harness) -> str:
    """Every row of the registry's tables (and the outbox, for invites), as text."""
    return await table_snapshot(
        bot.db, TABLES, "SELECT room_id, action, content FROM outbox WHERE action != 'send'")


async def ask(bot: Harness, body: str, **kwargs: object) -> str:
    """The reply's body without the bold marks (easier to read in assertions)."""
    return (await bot.reply_to(body, **kwargs)).replace("**", "")


async def create_velo(bot: Harness, sender: str = ALICE) -> str:
    return await ask(bot, "!projet creer Atelier vélo mobile --theme mobilité --territoire sud "
                              "--description Réparer les vélos dans les villages", sender=sender)


async def make_room(bot: Harness, body: str = "!projet salon velo", **kwargs: object) -> list[str]:
    """``!projet salon``: the bodies sent in the room of the command (the reply, then « Salon
    créé » once the homeserver created it), without the bold marks."""
    sent = await bot.command(body, **kwargs)
    room = kwargs.get("room_id", ROOM)
    return [s.content["body"].replace("**", "") for s in sent if s.room_id == room]


async def refused(bot: Harness, body: str, sender: str = ALICE, **kwargs: object) -> str:
    """The reply to a command that must change nothing."""
    before = await snapshot(bot)
    reply = await ask(bot, body, sender=sender, **kwargs)
    assert await snapshot(bot) == before, f"{body!r} changed the database"
    return reply


# --- creer ------------------------------------------------------------------------------------

async def test_create_a_group_makes_the_creator_its_referent(bot: Harness) -> None:
    reply = await create_velo(bot)
    assert reply.startswith("Groupe-projet n°1 Atelier vélo mobile créé (identifiant "
                            "`atelier-velo-mobile`) : thème mobilité, territoire sud, statut idée.")
    assert "`!projet rejoindre atelier-velo-mobile`" in reply
    async with bot.db.transaction() as repos:
        group = await repos.groups.get(1)
        assert group is not None
        assert (group.name, group.slug, group.theme, group.territory, group.status) == (
            "Atelier vélo mobile", "atelier-velo-mobile", "mobilite", "sud", "idee")
        assert group.description == "Réparer les vélos dans les villages"
        assert group.created_by == ALICE and group.created_at == bot.clock.now()
        members = await repos.groups.members(1)
        assert [(m.user_id, m.referent, m.joined_at) for m in members] == [
            (ALICE, True, bot.clock.now())]
        audit = await repos.audit.entries("group", 1)
        assert [(e.actor, e.action) for e in audit] == [(ALICE, "created")]


async def test_create_in_english_with_defaults(bot: Harness) -> None:
    reply = await ask(bot, "!project create Ciné-club de la transition")
    assert "n°1 Ciné-club de la transition" in reply and "`cine-club-de-la-transition`" in reply
    assert "tout le territoire" in reply and "vie culturelle" in reply
    assert "!projet modifier cine-club-de-la-transition theme" in reply  # how to set them


async def test_options_take_accents_dashes_and_any_order(bot: Harness) -> None:
    reply = await ask(bot, "!projet créer Micro hydro —territoire NORD --Thème Énergie")
    assert "thème énergie, territoire nord" in reply


async def test_duplicate_name_points_to_the_existing_group(bot: Harness) -> None:
    await create_velo(bot)
    reply = await refused(bot, "!projet creer  ATELIER   VELO mobile ", sender=BOB)
    assert reply.startswith("Un groupe porte déjà ce nom : n°1 Atelier vélo mobile "
                            "(`atelier-velo-mobile`)")
    assert "!projet rejoindre atelier-velo-mobile" in reply


async def test_same_slug_from_a_different_name_gets_a_number(bot: Harness) -> None:
    await ask(bot, "!projet creer Vélo !")
    reply = await ask(bot, "!projet creer Vélo ?")
    assert "`velo-2`" in reply


@pytest.mark.parametrize(("body", "expected"), [
    ("!projet creer", "Il manque : nom."),
    ("!projet creer   --theme énergie", "Il manque : nom."),
    ("!projet creer ab", "entre 3 et 80 caractères (il en fait 2)"),
    ("!projet creer " + "x" * 10_000, "Message trop long pour une commande"),
    ("!projet creer " + "x" * 81, "entre 3 et 80 caractères (il en fait 81)"),
    ("!projet creer <script>alert(1)</script>", "texte simple, sans balises"),
    ("!projet creer **Vélo** en gras", "texte simple, sans balises"),
    ("!projet creer [lien](https://example.org)", "texte simple, sans balises"),
    ("!projet creer ---", "Le nom est vide"),
    ("!projet creer Vélo --theme sport", "« sport » n'est pas un thème du club. Thèmes : "
                                         "agriculture et alimentation, biens et services"),
    ("!projet creer Vélo --territoire est", "« est » n'est pas un territoire. Territoires : nord, "
                                           "sud, tout le territoire."),
    ("!projet creer Vélo --couleur verte", "Option inconnue : « --couleur »"),
    ("!projet creer Vélo --theme", "L'option « --theme » n'a pas de valeur."),
    ("!projet creer Vélo --theme énergie --theme mobilité", "donnée deux fois"),
])
async def test_create_refusals_change_nothing(bot: Harness, body: str, expected: str) -> None:
    reply = await refused(bot, body)
    assert expected in reply
    if "Il manque" in expected or "thème" in expected:
        assert "Usage : `!projet creer <nom…>" in reply


# --- names that could pass for another -----------------------------------------------------------

INVISIBLE = {"U+3164 HANGUL FILLER": "Atelier\u3164vélo", "U+2800 BRAILLE BLANK": "Atelier\u2800vélo",
             "U+FE0F VARIATION SELECTOR": "Atelier vélo\ufe0f", "U+034F CGJ": "Ate\u034flier vélo",
             "U+200B ZERO WIDTH SPACE": "Atelier\u200bvélo", "U+200D ZWJ": "Ate\u200dlier",
             "U+202E RTL OVERRIDE": "Atelier \u202eolév", "U+2066 LTR ISOLATE": "Atelier \u2066vélo",
             "U+00AD SOFT HYPHEN": "Ate\u00adlier", "U+FEFF BOM": "\ufeffAtelier",
             "U+E0041 TAG": "Atelier\U000e0041", "U+115F CHOSEONG FILLER": "Atelier \u115f"}


@pytest.mark.parametrize("name", INVISIBLE.values(), ids=INVISIBLE.keys())
async def test_a_name_holding_an_invisible_character_is_refused(bot: Harness, name: str) -> None:
    reply = await refused(bot, f"!projet creer {name}")
    assert "Le nom contient un caractère invisible ou de mise en forme" in reply


@pytest.mark.parametrize(("name", "word"), [
    ("Atelier v\u0435lo", "v\u0435lo"),  # a Cyrillic е
    ("Jardin \u0391BC", "\u0391BC"),  # a Greek capital alpha
    ("R\u0435pair-café", "R\u0435pair-café"),
    ("Caf\u00e9 \u03c1\u03b1rtag\u00e9", "\u03c1\u03b1rtag\u00e9")])
async def test_a_word_mixing_scripts_is_refused(bot: Harness, name: str, word: str) -> None:
    reply = await refused(bot, f"!projet creer {name}")
    assert f"Le mot « {word} » mêle des lettres de plusieurs alphabets" in reply


@pytest.mark.parametrize("lookalike", [
    "ATELIER VÉLO MOBILE\u0301",  # an accent more: the same folded name
    "AteIier vélo mobile",  # a capital I for an l
    "Atelier vé1o mobile",  # a one for an l
    "Atelier vél0 mobile",  # a zero for an o
    "Atelier vélo mobile",  # U+2002 EN SPACE: the same once spaces are collapsed
])
async def test_a_name_that_looks_like_another_group_s_is_refused(bot: Harness,
                                                                 lookalike: str) -> None:
    await create_velo(bot)
    reply = await refused(bot, f"!projet creer {lookalike}", sender=BOB)
    assert reply.startswith(("Un groupe porte déjà ce nom", "« "))
    assert "n°1 Atelier vélo mobile" in reply
    if reply.startswith("« "):
        assert "ressemble trop au nom du groupe n°1 Atelier vélo mobile" in reply


async def test_a_name_written_in_another_script_that_looks_the_same_is_refused(
        bot: Harness) -> None:
    await ask(bot, "!projet creer Coop Eco")
    cyrillic = "\u0421\u043e\u043e\u0440 \u0415\u0441\u043e"  # « Соор Есо », every letter Cyrillic
    reply = await refused(bot, f"!projet creer {cyrillic}", sender=BOB)
    assert reply.startswith(f"« {cyrillic} » ressemble trop au nom du groupe n°1 Coop Eco")


async def test_a_group_renamed_like_another_is_refused_but_may_keep_its_own_look(
        bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet creer Jardin partagé 2027")
    reply = await refused(bot, "!projet modifier 2 nom AteIier vélo mobile")
    assert "ressemble trop au nom du groupe n°1 Atelier vélo mobile" in reply
    assert "nom" in await ask(bot, "!projet modifier 2 nom Jardin partagé 2O27")


@pytest.mark.parametrize("name", [
    "Café réparation", "Île verte", "Œuvre commune", "L’atelier d’Anne-Marie (n°2) : 50 % !",
    "Vélo & co", "« Jardin » — été 2027", "Ça roule à Gap", "ÉCOLE DU VÉLO", "Jardin ❤️",
    "👩‍🌾 Jardin", "Вело-клуб", "Repair café #3 + atelier = 100% récup'"])
async def test_french_and_ordinary_names_stay_accepted(bot: Harness, name: str) -> None:
    reply = await ask(bot, f"!projet creer {name}")
    assert reply.startswith("Groupe-projet n°1 "), reply


# --- liste --------------------------------------------------------------------------------------

async def seed(bot: Harness) -> None:
    """Three groups: vélo (sud, en cours, 3 members), hydro (nord, idée), ciné (archived)."""
    await create_velo(bot)
    await ask(bot, "!projet creer Micro hydro --theme énergie --territoire nord", sender=BOB)
    await ask(bot, "!projet creer Ciné-club --theme vie locale", sender=CAROL)
    await ask(bot, "!projet statut 1 en cours")
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    await ask(bot, "!projet rejoindre velo", sender=CAROL)
    await ask(bot, "!projet archiver 3", sender=CAROL)


async def test_list_active_first_with_member_counts_and_archived_hidden(bot: Harness) -> None:
    await seed(bot)
    reply = await ask(bot, "!projet liste")
    lines = reply.splitlines()
    assert lines[0] == "Groupes-projets (2) :"
    rows = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert rows == [
        "| 1 | Atelier vélo mobile (`atelier-velo-mobile`) | mobilité | sud | en cours | 3 |",
        "| 2 | Micro hydro (`micro-hydro`) | énergie | nord | idée | 1 |",
    ]
    assert "1 groupe(s) archivé(s) non affiché(s) : `!projet liste archivé`" in reply


@pytest.mark.parametrize(("filter_", "numbers"), [
    ("énergie", ["2"]), ("MOBILITE", ["1"]), ("sud", ["1"]), ("nord", ["2"]),
    ("en cours", ["1"]), ("idee", ["2"]), ("archivé", ["3"]), ("archived", ["3"]),
])
async def test_list_filters(bot: Harness, filter_: str, numbers: list[str]) -> None:
    await seed(bot)
    reply = await ask(bot, f"!projects list {filter_}")
    rows = [line.split(" | ")[0].strip("| ") for line in reply.splitlines()
            if line.startswith("| ") and line[2].isdigit()]
    assert rows == numbers


async def test_list_bad_filter_lists_the_valid_words(bot: Harness) -> None:
    reply = await refused(bot, "!projet liste jardinage")
    assert "« jardinage » n'est ni un thème, ni un territoire, ni un statut" in reply
    assert "Statuts : idée, en définition, en cours" in reply


async def test_list_when_empty_and_when_nothing_matches(bot: Harness) -> None:
    assert (await ask(bot, "!projet liste")).startswith("Aucun groupe-projet pour l'instant")
    await create_velo(bot)
    assert (await ask(bot, "!projet liste nord")).startswith("Aucun groupe ne correspond")


async def test_list_is_paged(bot: Harness) -> None:
    for number in range(35):  # by a coordinator: no cap on the groups created per day
        await ask(bot, f"!projet creer Groupe numéro {number:02d}", sender=COORDINATOR)
    first = await ask(bot, "!projet liste")
    assert "Groupes-projets (35)" in first and "Page 1 sur 2" in first
    assert "`!projet liste --page 2`" in first
    second = await ask(bot, "!projet liste --page 2")
    rows = [line for line in second.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 5 and rows[0].startswith("| 31 |")


# --- info, membres, mesprojets -------------------------------------------------------------------

async def test_info_shows_everything(bot: Harness) -> None:
    await seed(bot)
    bot.clock.advance(timedelta(days=1))
    await ask(bot, "!projet avancement velo Premier atelier : 12 vélos réparés", sender=BOB)
    await ask(bot, "!projet besoin velo matériel : un pied d'atelier")
    await ask(bot, "!projet modifier velo financement ADEME via le PETR")
    await make_room(bot)
    reply = await ask(bot, "!projet info velo")
    assert reply.startswith("n°1 Atelier vélo mobile (`atelier-velo-mobile`)")
    for expected in ("Réparer les vélos dans les villages",
                     "Thème : mobilité · Territoire : sud · Statut : en cours",
                     f"Référents : {ALICE}", f"Membres (3) : {ALICE}, {BOB}, {CAROL}",
                     "Salon : Atelier vélo mobile", "Financements : ADEME via le PETR",
                     f"Créé le 05/01/2099 par {ALICE}", "Besoins :",
                     "(matériel) un pied d'atelier", "Avancement (1 dernières entrées sur 1)",
                     f"06/01/2099 — {BOB} : Premier atelier : 12 vélos réparés"):
        assert expected in reply, expected


@pytest.mark.parametrize("ref", ["1", "#1", "n°1", "atelier-velo-mobile", "Atelier Vélo Mobile",
                                 "velo", "VÉLO", "mobile velo", "atel"])
async def test_a_group_is_found_by_number_slug_or_partial_name(bot: Harness, ref: str) -> None:
    await seed(bot)
    assert (await ask(bot, f"!projet info {ref}")).startswith("n°1 Atelier vélo mobile")


async def test_ambiguous_name_gets_a_short_choice_list(bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo")
    await ask(bot, "!projet creer Atelier couture")
    reply = await refused(bot, "!projet info atelier")
    assert reply == ("Plusieurs groupes correspondent à « atelier » : n°1 Atelier vélo "
                     "(`atelier-velo`), n°2 Atelier couture (`atelier-couture`). Précisez le "
                     "numéro ou l'identifiant.")


async def test_archived_groups_match_only_when_nothing_active_does(bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo")
    await ask(bot, "!projet creer Atelier couture")
    await ask(bot, "!projet archiver couture")
    assert (await ask(bot, "!projet info atelier")).startswith("n°1 Atelier vélo")
    assert (await ask(bot, "!projet info couture")).startswith("n°2 Atelier couture")


@pytest.mark.parametrize(("body", "expected"), [
    ("!projet info jardin", "Aucun groupe ne correspond à « jardin ». Tapez `!projet liste`"),
    ("!projet info 99", "Il n'y a pas de groupe n°99."),
    ("!projet info", "Il manque : groupe."),
    ("!projet rejoindre <b>x</b>", "Aucun groupe ne correspond à « <b>x</b> »"),
    ("!projet info @room", "Aucun groupe ne correspond à « @\u2060room »"),
])
async def test_unknown_group(bot: Harness, body: str, expected: str) -> None:
    await seed(bot)
    assert expected in await refused(bot, body)


async def test_a_group_left_out_outside_a_groups_room_is_asked_for_alone(bot: Harness) -> None:
    """Outside a group's room, the group is asked for like a lookup's refusal (no usage); a
    group left out before its text gets the usage, as any missing argument."""
    await seed(bot)
    assert await refused(bot, "!projet membres") == "Il manque : groupe."
    reply = await refused(bot, '!projet avancement "" 12 vélos réparés')
    assert reply.startswith("Il manque : groupe.\n\nUsage : `!projet avancement <groupe> <texte…>`")


async def test_info_and_members_default_to_the_group_of_the_room(bot: Harness) -> None:
    await create_velo(bot)
    await make_room(bot)
    room = bot.transport.created[0]["room_id"]
    assert (await ask(bot, "!projet info", room_id=room)).startswith("n°1 Atelier vélo mobile")
    assert (await ask(bot, "!projet membres", room_id=room)).startswith(
        "Membres de n°1 Atelier vélo mobile (1)")


async def test_members_with_their_date_and_referents_first(bot: Harness) -> None:
    await create_velo(bot)
    bot.clock.advance(timedelta(days=2))
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    reply = await ask(bot, "!projet members 1")
    assert reply.splitlines() == ["Membres de n°1 Atelier vélo mobile (2) :",
                                  f"- {ALICE} (référent) — depuis le 05/01/2099",
                                  f"- {BOB} — depuis le 07/01/2099"]
    await ask(bot, "!projet quitter velo", sender=BOB)
    await ask(bot, "!projet quitter velo")
    assert (await ask(bot, "!projet members 1")).splitlines() == [
        "Membres de n°1 Atelier vélo mobile (0) :", "Personne pour l'instant."]


async def test_my_projects(bot: Harness) -> None:
    await seed(bot)
    assert (await ask(bot, "!mesprojets", sender=DAVE)).startswith(
        "Vous n'êtes membre d'aucun groupe-projet")
    reply = await ask(bot, "!myprojects", sender=BOB)
    assert reply.splitlines() == ["Vos groupes-projets (2) :",
                                  "- n°1 Atelier vélo mobile (`atelier-velo-mobile`) — en cours",
                                  "- n°2 Micro hydro (`micro-hydro`) — idée (référent)"]


# --- rejoindre, quitter ---------------------------------------------------------------------------

async def test_join_and_leave_are_idempotent(bot: Harness) -> None:
    await create_velo(bot)
    assert (await ask(bot, "!projet join velo", sender=BOB)) == (
        "Vous avez rejoint Atelier vélo mobile : vous êtes 2 membres.".replace(
            "Atelier", "n°1 Atelier"))
    assert await refused(bot, "!projet rejoindre VELO", sender=BOB) == (
        "Vous êtes déjà membre de n°1 Atelier vélo mobile.")
    assert await ask(bot, "!projet quitter velo", sender=BOB) == (
        "Vous avez quitté n°1 Atelier vélo mobile.")
    assert await refused(bot, "!projet leave velo", sender=BOB) == (
        "Vous n'êtes pas membre de n°1 Atelier vélo mobile : rien à faire.")
    async with bot.db.transaction() as repos:
        actions = [e.action for e in await repos.audit.entries("group", 1)]
    assert actions == ["left", "joined", "created"]


async def test_joining_a_group_with_a_room_invites_into_it(bot: Harness) -> None:
    await create_velo(bot)
    await make_room(bot)
    room = bot.transport.created[0]["room_id"]
    reply = await ask(bot, "!projet rejoindre velo", sender=BOB)
    assert "Je vous invite dans son salon" in reply
    assert (room, BOB) in bot.transport.invites


async def test_an_invitation_the_homeserver_forbids_is_told_once(bot: Harness) -> None:
    """« Je vous invite » is what is being done; if the homeserver forbids the invitation (the
    bot's level in the group's room, or a ban), the person is told where they asked, once."""
    await create_velo(bot)
    await make_room(bot)
    room = bot.transport.created[0]["room_id"]
    bot.transport.forbidden.add(("invite", room))
    sent = await bot.command("!projet rejoindre velo", sender=BOB)
    assert [s.room_id for s in sent] == [ROOM, ROOM]
    assert "Je vous invite dans son salon" in sent[0].content["body"]
    told = sent[1].content
    assert told["body"].replace("**", "").startswith(
        f"Je n'ai pas pu inviter {BOB} dans le salon de n°1 Atelier vélo mobile")
    assert "Un modérateur du salon peut l'inviter." in told["body"]
    assert told["m.mentions"] == {"user_ids": [BOB]}
    assert (room, BOB) not in bot.transport.invites
    await bot.outbox.flush()
    assert bot.transport.bodies().count(told["body"]) == 1


async def test_joining_an_archived_group_is_refused(bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet archiver velo")
    assert "est archivé : on ne peut plus le rejoindre" in await refused(
        bot, "!projet rejoindre velo", sender=BOB)


async def test_the_last_referent_leaving_is_told_the_group_has_none(bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    reply = await ask(bot, "!projet quitter velo")
    assert "Le groupe n'a plus de référent" in reply
    assert "`!projet referent atelier-velo-mobile @personne`" in reply
    # any member may then name a referent? No: editors only; the coordinators can.
    assert "Seuls les référents" in await refused(bot, f"!projet referent velo {BOB}", sender=BOB)
    assert "maintenant référent" in await ask(bot, f"!projet referent velo {BOB}",
                                                         sender=COORDINATOR)


# --- avancement ---------------------------------------------------------------------------------

async def test_progress_by_members_with_a_several_word_group_name(bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet creer Vélo-école")
    await ask(bot, "!projet rejoindre 1", sender=BOB)
    reply = await ask(bot, "!projet avancement atelier velo mobile 12 vélos réparés samedi",
                               sender=BOB)
    assert reply == "Avancement noté pour n°1 Atelier vélo mobile. Merci !"
    await ask(bot, '!projet avancement "vélo-école" première séance', sender=ALICE)
    async with bot.db.transaction() as repos:
        assert [p.text for p in await repos.groups.progress(1)] == ["12 vélos réparés samedi"]
        assert [p.text for p in await repos.groups.progress(2)] == ["première séance"]


async def test_a_group_s_whole_name_followed_by_a_text(bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet creer Jardin partagé")
    await ask(bot, "!projet avancement Atelier vélo mobile, un an déjà")
    await ask(bot, "!projet avancement atelier vélo mobile : point d'étape")
    await ask(bot, "!projet avancement jardin partagé semis faits")
    async with bot.db.transaction() as repos:
        assert [p.text for p in await repos.groups.progress(1)] == ["point d'étape", "un an déjà"]
        assert [p.text for p in await repos.groups.progress(2)] == ["semis faits"]


async def test_two_groups_whose_whole_names_start_the_text_are_ambiguous(bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier")
    await ask(bot, "!projet creer Atelier vélo")
    before = await snapshot(bot)
    reply = await refused(bot, "!projet avancement atelier vélo 12 vélos réparés")
    assert reply == ("Plusieurs groupes ont leur nom au début de « atelier vélo 12 vélos "
                     "réparés » : n°1 Atelier (`atelier`), n°2 Atelier vélo (`atelier-velo`). "
                     "Précisez le numéro, ou mettez le nom entre guillemets.")
    assert await snapshot(bot) == before
    await ask(bot, '!projet avancement "atelier vélo" : 12 vélos réparés')
    await ask(bot, '!projet avancement "atelier" vélo : la remorque')
    await ask(bot, "!projet avancement atelier-velo point d'étape")
    await ask(bot, "!projet avancement 1 trois bénévoles")
    async with bot.db.transaction() as repos:
        assert [p.text for p in await repos.groups.progress(2)] == ["point d'étape",
                                                                    "12 vélos réparés"]
        assert [p.text for p in await repos.groups.progress(1)] == [
            "trois bénévoles", "vélo : la remorque"]


async def test_a_group_named_after_another_s_name_and_text_does_not_take_its_commands(
        bot: Harness) -> None:
    await ask(bot, "!projet creer Compost")
    await create_velo(bot)
    await ask(bot, "!projet creer Saint-Jean jardin")
    await ask(bot, "!projet avancement atelier-velo-mobile point d'étape")
    await ask(bot, "!projet creer Compost semis", sender=BOB)
    await ask(bot, "!projet creer atelier-velo-mobile point", sender=BOB)
    await ask(bot, "!projet creer Saint Jean", sender=BOB)
    before = await snapshot(bot)
    for body in ("!projet avancement compost semis faits",
                 "!projet avancement atelier-velo-mobile point de mai",
                 "!projet avancement saint-jean jardin : semis"):
        assert (await refused(bot, body)).startswith("Plusieurs groupes ont leur nom au début")
    assert await snapshot(bot) == before
    async with bot.db.transaction() as repos:
        assert [p.text for p in await repos.groups.progress(2)] == ["point d'étape"]


async def test_a_long_name_s_first_words_as_another_group_s_name_take_nothing(
        bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier de réparation de vélos de la vallée du Guil")
    await ask(bot, "!projet creer Atelier de réparation de vélos de la", sender=BOB)
    before = await snapshot(bot)
    reply = await refused(bot, "!projet avancement atelier de réparation de vélos de la vallée "
                               "du Guil : 12 vélos")
    assert reply.startswith("Plusieurs groupes ont leur nom au début")
    assert "n°1 " in reply and "n°2 " in reply
    assert await snapshot(bot) == before


async def test_an_archived_group_s_whole_name_yields_to_an_active_one(bot: Harness) -> None:
    await ask(bot, "!projet creer Jardin partagé")
    await ask(bot, "!projet creer Jardin")
    await ask(bot, "!projet archiver 1", sender=COORDINATOR)
    await ask(bot, "!projet avancement jardin partagé : semis faits")
    async with bot.db.transaction() as repos:
        assert [p.text for p in await repos.groups.progress(2)] == ["partagé : semis faits"]


async def test_progress_refused_to_non_members_allowed_to_coordinators(bot: Harness) -> None:
    await create_velo(bot)
    reply = await refused(bot, "!projet avancement velo on avance", sender=BOB)
    assert reply.startswith("Seuls les membres de n°1 Atelier vélo mobile peuvent noter")
    assert "`!projet rejoindre atelier-velo-mobile`" in reply
    assert "Avancement noté" in await ask(bot, "!projet avancement velo point d'étape",
                                                   sender=COORDINATOR)


async def test_progress_without_text(bot: Harness) -> None:
    await create_velo(bot)
    assert "Il manque : texte." in await refused(bot, "!projet avancement velo")
    assert "Il manque : texte." in await refused(bot, "!projet avancement atelier velo mobile")
    assert "Il manque : texte." in await refused(bot, "!projet avancement atelier velo mobile :")
    assert "Il manque : texte." in await refused(bot, '!projet avancement "velo" :')


# --- besoin, statut, modifier, archiver -----------------------------------------------------------

async def test_needs_added_with_a_kind_and_marked_met(bot: Harness) -> None:
    await create_velo(bot)
    reply = await ask(bot, "!projet besoin velo compétences : un ou une mécanicienne")
    assert reply.startswith("Besoin n°1 (compétences) ajouté à n°1 Atelier vélo mobile.")
    assert "`!projet besoin atelier-velo-mobile --retirer 1`" in reply
    await ask(bot, "!projet besoin velo un local pour l'hiver")
    async with bot.db.transaction() as repos:
        needs = [(n.id, n.kind, n.text) for n in await repos.groups.open_needs(1)]
    assert needs == [(1, "competence", "un ou une mécanicienne"),
                     (2, "autre", "un local pour l'hiver")]
    assert await ask(bot, "!projet besoin velo --retirer 1") == (
        "Besoin n°1 de n°1 Atelier vélo mobile marqué comme satisfait.")
    assert "Pas de besoin n°1 en cours" in await refused(bot, "!projet besoin velo --retirer 1")
    assert "Il manque : texte." in await refused(bot, "!projet besoin velo")


@pytest.mark.parametrize("body", [
    "!projet besoin velo du matériel",
    "!projet statut velo en cours",
    "!projet modifier velo description autre chose",
    f"!projet referent velo {CAROL}",
    "!projet archiver velo",
    "!projet salon velo",
    "!projet historique velo",
])
async def test_only_referents_and_coordinators_edit(bot: Harness, body: str) -> None:
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    reply = await refused(bot, body, sender=BOB)
    assert "n°1 Atelier vélo mobile" in reply
    assert reply.startswith("Seuls les référents") or reply.startswith("L'historique")
    bot.roles[DAVE] = Role.COORDINATOR
    assert not (await bot.command(body, sender=DAVE))[0].content["body"].startswith("Seuls")


async def test_status_change_with_every_spelling(bot: Harness) -> None:
    await create_velo(bot)
    for typed, label in (("en cours", "en cours"), ("EN-DEFINITION", "en définition"),
                         ("réalisé", "réalisé"), ("paused", "en pause"), ("idée", "idée")):
        assert await ask(bot, f"!projet statut velo {typed}") == (
            f"n°1 Atelier vélo mobile : statut → {label}")


async def test_status_with_a_multi_word_name_and_bad_status(bot: Harness) -> None:
    await create_velo(bot)
    assert (await ask(bot, "!projet statut atelier velo mobile en pause")).endswith(
        "statut → en pause")
    reply = await refused(bot, "!projet statut velo fini-ou-presque")
    assert reply.startswith("« fini-ou-presque » n'est pas un statut. Statuts : idée, "
                            "en définition, en cours, réalisé, en pause, archivé.")
    assert "Il manque : statut." in await refused(bot, "!projet statut velo")
    assert "Il manque : statut." in await refused(bot, "!projet statut atelier velo mobile")


@pytest.mark.parametrize(("change", "column", "value"), [
    ("nom Atelier vélo itinérant", "name", "Atelier vélo itinérant"),
    ("description Des ateliers dans 12 communes", "description", "Des ateliers dans 12 communes"),
    ("theme énergie", "theme", "energie"),
    ("territoire tout le territoire", "territory", "tout"),
    ("slug velo-mobile", "slug", "velo-mobile"),
    ("financements ADEME, commune de Guillestre", "funding", "ADEME, commune de Guillestre"),
    ("statut réalisé", "status", "realise"),
])
async def test_edit_each_field(bot: Harness, change: str, column: str, value: str) -> None:
    await create_velo(bot)
    reply = await ask(bot, f"!projet modifier velo {change}")
    assert reply.startswith("n°1 Atelier vélo mobile : ") or reply.startswith("n°1 Atelier vélo")
    async with bot.db.transaction() as repos:
        group = await repos.groups.get(1)
        assert getattr(group, column) == value
        entry = (await repos.audit.entries("group", 1))[0]
    assert entry.action in ("edited", "status")
    assert json.loads(entry.details)["new"]


@pytest.mark.parametrize(("body", "expected"), [
    ("!projet modifier velo couleur verte", "« couleur » : on peut modifier nom, description"),
    ("!projet modifier velo", "Il manque : champ."),
    ("!projet modifier velo nom <i>x</i>", "texte simple"),
    ("!projet modifier velo nom Micro hydro", "Un groupe porte déjà ce nom : n°2 Micro hydro"),
    ("!projet modifier velo slug micro-hydro", "L'identifiant `micro-hydro` est déjà pris"),
    ("!projet modifier velo slug ---", "ne peut pas servir d'identifiant"),
    ("!projet modifier velo theme sport", "n'est pas un thème du club"),
    ("!projet modifier velo description " + "d" * 1001, "Texte trop long (1000 caractères"),
])
async def test_edit_refusals(bot: Harness, body: str, expected: str) -> None:
    await create_velo(bot)
    await ask(bot, "!projet creer Micro hydro")
    assert expected in await refused(bot, body)


async def test_archive(bot: Harness) -> None:
    await create_velo(bot)
    assert await ask(bot, "!projet archiver velo") == (
        "n°1 Atelier vélo mobile : statut → archivé")
    assert "déjà archivé" in await refused(bot, "!projet archive 1")
    assert (await ask(bot, "!projet liste")).startswith("Aucun groupe-projet")


# --- referent -------------------------------------------------------------------------------------

async def test_only_a_member_of_the_group_becomes_its_referent(bot: Harness) -> None:
    """Nobody becomes a member, is invited or counted because someone else named them."""
    await create_velo(bot)
    async with bot.db.transaction() as repos:
        (await repos.groups.get(1)).room_id = ROOM  # type: ignore[union-attr]
    before = await snapshot(bot)
    reply = await refused(bot, f"!projet referent velo {BOB}")
    assert reply.startswith(f"{BOB} n'est pas membre de n°1 Atelier vélo mobile"), reply
    assert "!projet rejoindre atelier-velo-mobile" in reply
    assert await snapshot(bot) == before
    assert bot.transport.invites == []
    async with bot.db.transaction() as repos:
        assert await repos.participants.get(BOB) is None


async def test_referents_added_and_removed(bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    sent = await bot.command(f"!projet referent velo {BOB}")
    assert sent[0].content["body"] == f"{BOB} est maintenant référent de **n°1 Atelier vélo mobile**."
    assert sent[0].content["m.mentions"] == {"user_ids": [BOB, ALICE]}
    assert "déjà référent" in await refused(bot, f"!projet referent velo {BOB}")
    assert await ask(bot, f"!projet referent velo {ALICE} retirer", sender=BOB) == (
        f"{ALICE} n'est plus référent de n°1 Atelier vélo mobile.")
    assert "doit garder au moins un référent" in await refused(
        bot, f"!projet referent velo {BOB} retirer", sender=BOB)
    assert "n'est pas référent" in await refused(bot, f"!projet referent velo {CAROL} remove",
                                                 sender=BOB)
    async with bot.db.transaction() as repos:
        members = {m.user_id: m.referent for m in await repos.groups.members(1)}
    assert members == {ALICE: False, BOB: True}


async def test_referent_from_a_pill_and_bad_people(bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    pill = f"[Bob](https://matrix.to/#/{BOB})"
    assert "maintenant référent" in await ask(bot, f"!projet referent velo {pill}")
    assert "n'est pas une personne" in await refused(bot, "!projet referent velo bob")
    assert "Il manque : @personne." in await refused(bot, "!projet referent velo")
    assert "après la personne" in await refused(bot, f"!projet referent velo {CAROL} peut-être")


# --- salon ------------------------------------------------------------------------------------------

async def test_room_created_in_the_space_with_members_invited(bot: Harness) -> None:
    """The reply says the room is being created; « Salon créé » follows once it exists, with
    its link, and the members are invited then."""
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    bot.dispatcher.club = replace(bot.dispatcher.club, space="!space:example.org")
    reply, created_text = await make_room(bot)
    assert reply == ("Je crée le salon de n°1 Atelier vélo mobile… Je vous dis ici quand il est "
                     "prêt, et j'y invite alors les membres du groupe.")
    assert created_text == ("Salon créé : Atelier vélo mobile, pour n°1 Atelier vélo mobile ; "
                            "j'y invite les membres du groupe (2).")
    created = bot.transport.created[0]
    assert created["name"] == "Atelier vélo mobile"
    assert created["topic"] == "Réparer les vélos dans les villages"
    assert created["space"] == "!space:example.org"
    assert created["moderators"] == [ALICE]
    room = created["room_id"]
    html = bot.transport.sent[-1].content["formatted_body"]
    assert f'href="https://matrix.to/#/{room}"' in html
    assert sorted(bot.transport.invites) == [(room, ALICE), (room, BOB)]
    async with bot.db.transaction() as repos:
        assert (await repos.groups.get(1)).room_id == room  # type: ignore[union-attr]
        entry = (await repos.audit.entries("group", 1))[0]
        assert (entry.actor, entry.action) == (ALICE, "room_created")
    assert "a déjà son salon" in await refused(bot, "!projet salon velo")


async def test_the_room_is_created_after_the_commit_without_holding_the_bot(
        bot: Harness) -> None:
    """No handler waits for the homeserver: while it is slow to create the room, the command
    is answered and committed, and another room's command is handled; « Salon créé » comes
    once the room exists."""
    await create_velo(bot)
    before = len(bot.transport.sent)
    bot.transport.creating.clear()  # the homeserver does not answer yet
    event_id = await bot.queue("!projet salon velo")
    async with asyncio.timeout(5):
        await bot.dispatcher.handle(event_id)
    sending = asyncio.create_task(bot.outbox.flush())
    try:
        async with asyncio.timeout(5):
            while len(bot.transport.sent) == before:  # the reply leaves before the room exists
                await asyncio.sleep(0.01)
            ping = await bot.queue("!ping", room_id="!autre:example.org")
            await bot.dispatcher.handle(ping)
        assert bot.transport.bodies()[before:] == [
            "Je crée le salon de **n°1 Atelier vélo mobile**… Je vous dis ici quand il est prêt, "
            "et j'y invite alors les membres du groupe."]
        async with bot.db.transaction() as repos:
            assert (await repos.groups.get(1)).room_id is None  # type: ignore[union-attr]
            assert (await repos.inbox.get(ping)).handled_at is not None  # type: ignore[union-attr]
            assert any(row.room_id == "!autre:example.org" for row in await repos.outbox.pending())
        assert not sending.done()
        bot.transport.creating.set()
        async with asyncio.timeout(5):
            await sending
    finally:
        bot.transport.creating.set()
    await bot.outbox.flush()
    room = bot.transport.created[0]["room_id"]
    assert bot.transport.bodies(ROOM)[-1].startswith("Salon créé : Atelier vélo mobile")
    assert bot.transport.bodies("!autre:example.org")[0].startswith("pong")
    assert (room, ALICE) in bot.transport.invites


async def test_a_room_being_created_is_not_asked_twice(bot: Harness) -> None:
    await create_velo(bot)
    bot.transport.creating.clear()
    first = await bot.queue("!projet salon velo")
    await bot.dispatcher.handle(first)  # the room is not created yet (not sent)
    bot.matrix.rooms["!velo:example.org"] = "!velo:example.org"
    bot.matrix.members["!velo:example.org", ALICE] = 50
    for body in ("!projet salon velo", "!projet salon velo !velo:example.org"):
        event_id = await bot.queue(body)
        await bot.dispatcher.handle(event_id)
        async with bot.db.transaction() as repos:
            rows = await repos.outbox.pending()
        assert rows[-1].content.count("en cours de création : je le dis ici dès qu'il est prêt")
    bot.transport.creating.set()
    await bot.outbox.flush()
    assert len(bot.transport.created) == 1


async def test_room_creation_refused_by_the_server(bot: Harness) -> None:
    """Told where it was asked, once; the group has no room, and asking again creates it."""
    await create_velo(bot)
    bot.transport.fail_creation = True
    reply, told = await make_room(bot)
    assert reply.startswith("Je crée le salon de n°1 Atelier vélo mobile")
    assert told.startswith("Je n'ai pas pu créer le salon de n°1 Atelier vélo mobile : le "
                           "serveur l'a refusé, ou n'a pas répondu pendant des heures. "
                           "Réessayez plus tard, ou créez-le vous-même")
    async with bot.db.transaction() as repos:
        assert (await repos.groups.get(1)).room_id is None  # type: ignore[union-attr]
    bot.transport.fail_creation = False
    assert (await make_room(bot))[1].startswith("Salon créé : Atelier vélo mobile")
    assert len(bot.transport.created) == 1


async def test_a_space_that_refuses_the_room_is_told(bot: Harness) -> None:
    """A space child needs the bot's level in the space: « Salon créé » says it is not there."""
    await create_velo(bot)
    bot.dispatcher.club = replace(bot.dispatcher.club, space="!space:example.org")
    bot.transport.space_refused = True
    told = (await make_room(bot))[1]
    assert told.startswith("Salon créé : Atelier vélo mobile")
    assert told.endswith("Je n'ai pas pu le ranger dans l'espace du club : il faut que j'en "
                         "sois modérateur (niveau 50). Un modérateur de l'espace peut l'y ajouter.")


class Crash(BaseException):
    """The process dies here (``kill -9``): nothing after it runs."""


async def test_a_crash_at_any_point_loses_nothing_announced(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after the command's commit, between the creation and its record (a second room
    is created then: the first stays empty), or after the record: after a restart the group
    has one room, « Salon créé » is said once, every member is invited."""
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    # 1. Killed after the command's commit, before anything was sent: all is in the outbox.
    await bot.dispatcher.handle(await bot.queue("!projet salon velo"))
    restarted = restart(bot)

    # 2. Killed after the homeserver created the room, before it was recorded.
    async def dies(*_args: object) -> list[Queued]:
        raise Crash

    restarted.delivery.on_room_opened = dies
    with pytest.raises(Crash):
        await restarted.flush()
    assert len(bot.transport.created) == 1
    # 3. Killed once the room is recorded (committed), before what it queued was sent.
    restarted = restart(bot)

    def dies_before_sending(_row: Queued) -> None:
        raise Crash

    monkeypatch.setattr(restarted, "push", dies_before_sending)
    with pytest.raises(Crash):
        await restarted.flush()
    assert "Salon créé" not in " ".join(bot.transport.bodies())
    await restart(bot).flush()
    assert len(bot.transport.created) == 2  # the second creation, recorded
    room = bot.transport.created[1]["room_id"]
    async with bot.db.transaction() as repos:
        assert (await repos.groups.get(1)).room_id == room  # type: ignore[union-attr]
    told = [sent for sent in bot.transport.sent
            if sent.room_id == ROOM and sent.content["body"].startswith("Salon créé")]
    assert len(told) == 1 and room in told[0].content["formatted_body"]
    assert sorted(bot.transport.invites) == [(room, ALICE), (room, BOB)]
    assert [b for b in bot.transport.bodies(ROOM) if b.startswith("Je crée")] == [
        "Je crée le salon de **n°1 Atelier vélo mobile**… Je vous dis ici quand il est prêt, et "
        "j'y invite alors les membres du groupe."]


def restart(bot: Harness) -> Outbox:
    """A new sender on the same database and homeserver, as after a restart."""
    outbox = Outbox(bot.db, bot.transport, bot.clock)
    outbox.delivery.on_room_opened = bot.dispatcher.room_opened
    return outbox


async def test_an_existing_room_is_linked(bot: Harness) -> None:
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    existing = "!velo:example.org"
    bot.matrix.rooms.update({"#velo:example.org": existing, existing: existing})
    bot.matrix.members[existing, ALICE] = 50
    reply = await ask(bot, "!projet salon velo #velo:example.org")
    assert ("est maintenant celui de n°1 Atelier vélo mobile ; j'y invite les membres du groupe "
            "(1)") in reply
    assert not bot.transport.created
    assert sorted(bot.transport.invites) == [(existing, BOB)]  # Alice is there already
    async with bot.db.transaction() as repos:
        assert (await repos.groups.get(1)).room_id == existing  # type: ignore[union-attr]
    # Linked again: refused (each time, it would invite every member again).
    assert "est déjà celui de n°1 Atelier vélo mobile." in await refused(
        bot, "!projet salon velo #velo:example.org")
    assert len(bot.transport.invites) == 1


async def test_a_referent_links_at_most_three_rooms_a_day(bot: Harness) -> None:
    """Each link invites the members not in the room (into rooms the referent chose): a referent
    could have them invited into one room after another. The fourth link in 24 hours is
    refused and changes nothing; the coordinators have no cap."""
    await create_velo(bot)
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    rooms = ("!a:example.org", "!b:example.org")
    for room in rooms:
        bot.matrix.rooms[room] = room
        bot.matrix.members[room, ALICE] = bot.matrix.members[room, COORDINATOR] = 50
    for room in (*rooms, rooms[0]):
        assert "est maintenant celui de" in await ask(bot, f"!projet salon velo {room}")
    reply = await refused(bot, f"!projet salon velo {rooms[1]}")
    assert reply.startswith("Limite atteinte : vous avez déjà relié 3 salons à des groupes")
    invited = [(room, user) for room, user, call in bot.transport.calls if call == "invite"]
    assert invited == [(rooms[0], BOB), (rooms[1], BOB), (rooms[0], BOB)]
    bot.matrix.members[rooms[1], BOB] = 0  # Bob joined it meanwhile
    assert await ask(bot, f"!projet salon velo {rooms[1]}", sender=COORDINATOR) == (
        "Le salon Atelier vélo mobile est maintenant celui de n°1 Atelier vélo mobile ; tous ses "
        "membres y sont déjà.")


async def test_linking_a_room_needs_the_bot_there_and_the_asker_its_moderator(
        bot: Harness) -> None:
    """A referent cannot get the bot into a room, nor the group's members invited into a room,
    that is not theirs to give: the bot must be there already and the asker a moderator
    there; a club room or another group's room is never linked."""
    await create_velo(bot)
    await ask(bot, "!projet creer Jardin partagé")
    private = "!private:example.org"
    bot.matrix.rooms.update({"#private:example.org": private, private: private,
                             "!main:example.org": "!main:example.org"})
    bot.matrix.members[private, BOB] = 100  # Bob's room; Alice is not in it
    before = await snapshot(bot)
    absent = await refused(bot, "!projet salon velo #elsewhere:evil.example")
    assert absent.startswith("Je ne suis pas dans le salon « #elsewhere:evil.example »")
    assert "m'y inviter" in absent
    assert "modérateur (niveau 50 ou plus) dans ce salon même" in await refused(
        bot, "!projet salon velo #private:example.org")
    bot.matrix.members[private, ALICE] = 0
    assert "modérateur" in await refused(bot, f"!projet salon velo {private}")
    bot.matrix.members[private, COORDINATOR] = 0  # coordinators too must be moderators there
    assert "modérateur" in await refused(bot, f"!projet salon velo {private}",
                                         sender=COORDINATOR)
    bot.matrix.members_unknown.add(private)
    del bot.matrix.members[private, ALICE]
    assert "réessayez dans une minute" in await refused(bot, f"!projet salon velo {private}")
    bot.dispatcher.club = replace(bot.dispatcher.club, rooms={"main": "!main:example.org"})
    bot.matrix.members["!main:example.org", ALICE] = 100
    assert "est un salon du club" in await refused(bot, "!projet salon velo !main:example.org")
    assert await snapshot(bot) == before
    assert bot.transport.invites == [] and bot.transport.created == []
    bot.matrix.members[private, ALICE] = 50
    assert "est maintenant celui de" in await ask(bot, f"!projet salon velo {private}")
    assert "est déjà celui de n°1 Atelier vélo mobile." in await refused(
        bot, f"!projet salon jardin {private}")


# --- historique ---------------------------------------------------------------------------------

async def test_history_lists_who_did_what(bot: Harness) -> None:
    await create_velo(bot)
    bot.clock.advance(timedelta(hours=1))
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    await ask(bot, "!projet statut velo en cours")
    reply = await ask(bot, "!projet historique velo", sender=COORDINATOR)
    lines = reply.splitlines()
    assert lines[0] == "Historique de n°1 Atelier vélo mobile (3 sur 3, les plus récents d'abord) :"
    assert lines[1] == f"- 05/01/2099 11:00 — {ALICE} : statut : idée → en cours"
    assert lines[2] == f"- 05/01/2099 11:00 — {BOB} : a rejoint le groupe"
    assert lines[3] == f"- 05/01/2099 10:00 — {ALICE} : a créé le groupe « Atelier vélo mobile »"
    assert (await ask(bot, "!projet history 1")).startswith("Historique")  # its referent


# --- the room where it is said -----------------------------------------------------------------

async def test_replies_go_to_the_room_of_the_command(bot: Harness) -> None:
    sent = await bot.command("!projet liste", room_id="!autre:example.org")
    assert [s.room_id for s in sent] == ["!autre:example.org"]  # one reply, none in ROOM
    assert bot.transport.bodies(ROOM) == []

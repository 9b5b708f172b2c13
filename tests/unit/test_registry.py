"""commands.registry: names, subcommands, suggestions, usage, help, argument parsing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from commands import build_registry, meta
from commands.arguments import Integer, Text, UserId, Word
from commands.context import Context
from commands.effects import Reply
from commands.errors import MissingArgument, TooManyArguments, UnknownCommand
from commands.i18n import Translator, catalog
from commands.params import Param
from commands.registry import Command, Registry, command, group, help_detail, help_index
from commands.roles import Asker, Role
from tests.unit.commandline import parse

FR = Translator("fr")
EN = Translator("en")


TEST_TEXTS = {
    "fr": {
        "cmd.projet.summary": "les groupes-projets",
        "cmd.projet.rejoindre.summary": "rejoindre un groupe-projet",
        "cmd.projet.creer.summary": "créer un groupe-projet",
        "cmd.note.summary": "noter une idée",
        "cmd.secret.summary": "commande de la coordination",
        "param.numero": "numéro",
        "param.titre": "titre",
        "param.personne": "personne",
    },
    "en": {
        "cmd.projet.summary": "project groups",
        "cmd.projet.rejoindre.summary": "join a project group",
        "cmd.projet.creer.summary": "create a project group",
        "cmd.note.summary": "note an idea",
        "cmd.secret.summary": "coordinators' command",
        "param.numero": "number",
        "param.titre": "title",
        "param.personne": "person",
    },
}


@pytest.fixture
def texts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Catalog entries for the test-only commands below (restored after the test)."""
    for language, entries in TEST_TEXTS.items():
        for key, value in entries.items():
            monkeypatch.setitem(catalog(language), key, value)
    yield


async def _handler(ctx: Context, **_kwargs: Any) -> Reply:
    return Reply("ok")


def small_registry() -> Registry:
    """The meta commands and test-only ones (a ``projet`` group of its own)."""
    registry = Registry()
    for declared in meta.CAPABILITY.commands:
        registry.add(declared)
    projet = registry.add(group("projet", fr=("projet", "projets"), en=("project",),
                                section="projects"))
    projet.subcommand("rejoindre", fr=("rejoindre",), en=("join",),
                      params=(Param("numero", Integer()),))(_handler)
    projet.subcommand("creer", fr=("créer",), en=("create",), role=Role.COORDINATOR,
                      params=(Param("titre", Text(), rest=True),))(_handler)
    registry.add(command("note", fr=("note",), en=("idea",), section="agenda",
                     params=(Param("personne", UserId()), Param("titre", Text(), rest=True,
                                                                required=False)))(_handler))
    registry.add(command("secret", fr=("secret",), section="reports",
                         role=Role.COORDINATOR)(_handler))
    return registry


# --- matching -----------------------------------------------------------------------------------

@pytest.mark.parametrize("line", ["aide", "AIDE", "Aidé", "AÏDE", "help", "HELP", "commandes",
                                  "Commands", "aide ping"])
def test_help_found_by_any_name(line: str) -> None:
    assert build_registry().resolve(line).command.key == "aide"


def test_resolve_keeps_the_argument_text() -> None:
    resolved = build_registry().resolve("aide   ping  ")
    assert resolved.arguments == "ping"


@pytest.mark.parametrize(("name", "key"), [("ping", "ping"), ("PING", "ping"), ("cadre", "cadre"),
                                           ("charte", "cadre"), ("Charter", "cadre")])
def test_other_meta_commands(name: str, key: str) -> None:
    assert build_registry().resolve(name).command.key == key


def test_subcommand_resolution() -> None:
    registry = small_registry()
    resolved = registry.resolve("projet rejoindre 3")
    assert resolved.command.key == "projet.rejoindre"
    assert resolved.arguments == "3"
    assert registry.resolve("PROJECT Join #4").command.key == "projet.rejoindre"
    assert registry.resolve("projets CREER Atelier vélo").command.key == "projet.creer"
    assert registry.resolve("projets CREER Atelier vélo").arguments == "Atelier vélo"
    # Without a known subcommand, the group itself is resolved, with the rest as arguments.
    resolved = registry.resolve("projet inconnu x")
    assert resolved.command.key == "projet"
    assert resolved.arguments == "inconnu x"
    assert registry.by_key("projet.creer") is resolved.command.subcommands[1]
    assert registry.by_key("nope") is None


def test_walk_yields_commands_and_subcommands() -> None:
    keys = [c.key for c in small_registry().walk()]
    # ``cadre proposer`` is declared with the proposals (commands.polls.charter)
    assert keys == ["aide", "ping", "cadre", "cadre.adherer", "cadre.adhesions",
                    "cadre.proposer", "quitter-salon", "projet", "projet.rejoindre",
                    "projet.creer", "note", "secret"]


def test_subcommand_path_and_inherited_role() -> None:
    registry = small_registry()
    join = registry.by_key("projet.rejoindre")
    assert join is not None
    assert join.path_in("fr") == "projet rejoindre"
    assert join.path_in("en") == "project join"
    assert join.role is Role.PARTICIPANT
    create = registry.by_key("projet.creer")
    assert create is not None and create.role is Role.COORDINATOR


def test_name_declared_twice_or_unknown_section_refused() -> None:
    registry = build_registry()
    with pytest.raises(ValueError, match="declared twice"):
        registry.add(command("autre", fr=("Aidé",), section="meta")(_handler))
    with pytest.raises(ValueError, match="unknown section"):
        registry.add(command("autre", fr=("autre",), section="nowhere")(_handler))


# --- unknown commands ---------------------------------------------------------------------------

def test_unknown_command_with_suggestions() -> None:
    with pytest.raises(UnknownCommand) as info:
        build_registry().resolve("aid")
    assert info.value.name == "aid"
    assert "aide" in info.value.suggestions


@pytest.mark.parametrize(("typed", "expected"), [("pign", "ping"), ("cadr", "cadre"),
                                                 ("helpp", "help"), ("AIDDE", "aide")])
def test_suggestions(typed: str, expected: str) -> None:
    assert expected in build_registry().suggest(typed)


def test_no_suggestion_for_nonsense() -> None:
    with pytest.raises(UnknownCommand) as info:
        build_registry().resolve("zzzzzzzz")
    assert info.value.suggestions == []


def test_unknown_command_name_cut_to_40() -> None:
    with pytest.raises(UnknownCommand) as info:
        build_registry().resolve("x" * 500)
    assert info.value.name == "x" * 40


# --- usage --------------------------------------------------------------------------------------

def test_usage_of_help_in_both_languages() -> None:
    aide = build_registry().find("aide")
    assert aide is not None
    assert aide.usage(FR, "!") == "!aide [commande] [sous-commande]"
    assert aide.usage(EN, "!") == "!help [command] [subcommand]"
    assert aide.usage(FR, "?") == "?aide [commande] [sous-commande]"


def test_usage_of_group_and_subcommands(texts: None) -> None:
    registry = small_registry()
    projet = registry.find("projet")
    assert projet is not None
    assert projet.usage(FR, "!") == "!projet <rejoindre|créer>"
    assert projet.usage(EN, "!") == "!project <join|create>"
    join = registry.by_key("projet.rejoindre")
    assert join is not None and join.usage(FR, "!") == "!projet rejoindre <numéro>"
    create = registry.by_key("projet.creer")
    assert create is not None and create.usage(EN, "!") == "!project create <title…>"
    note = registry.find("note")
    assert note is not None and note.usage(FR, "!") == "!note <personne> [titre…]"


# --- help ---------------------------------------------------------------------------------------

def test_help_index_groups_by_section_in_order(texts: None) -> None:
    text = help_index(small_registry(), Role.COORDINATOR, FR, "!")
    lines = text.splitlines()
    assert lines[0] == FR("help.title")
    headers = [line for line in lines if line.startswith("**") and line != FR("help.title")]
    assert headers == ["**Pour commencer**", "**Groupes-projets**", "**Ordre du jour**", "**Bilan**"]
    meta_at = lines.index("**Pour commencer**")
    assert lines[meta_at + 1 : meta_at + 4] == [
        "- `!aide` — la liste des commandes, ou le détail d'une commande",
        "- `!ping` — vérifier que le bot répond (version et latence)",
        "- `!cadre` — le cadre de confiance du club",
    ]
    assert lines[lines.index("**Groupes-projets**") + 1] == "- `!projet` — les groupes-projets"
    assert "- `!secret` — commande de la coordination" in lines
    assert lines[-1].startswith("Détails d'une commande : `!aide <commande>`")


def test_help_index_hides_coordinator_commands_from_participants(texts: None) -> None:
    text = help_index(small_registry(), Role.PARTICIPANT, FR, "!")
    assert "!secret" not in text
    assert "**Bilan**" not in text  # a section with nothing visible is left out
    assert "!projet" in text
    assert "!secret" in help_index(small_registry(), Role.COORDINATOR, FR, "!")


def test_help_index_says_when_commands_are_kept_for_others(texts: None) -> None:
    more = ("_D'autres commandes sont réservées à la coordination du club : `!aide <commande>` "
            "les explique aussi._")
    assert more in help_index(small_registry(), Role.PARTICIPANT, FR, "!")
    assert "D'autres commandes" not in help_index(small_registry(), Role.COORDINATOR, FR, "!")
    # a visitor is told to join the club instead (``!aide``'s handler)
    assert "D'autres commandes" not in help_index(small_registry(), Role.VISITOR, FR, "!")
    english = help_index(small_registry(), Role.PARTICIPANT, EN, "!")
    assert ("_Other commands are kept for the club's coordinators: `!help <command>` explains "
            "them too._") in english


def test_referents_commands_shown_to_referents_and_organisers(texts: None) -> None:
    registry = small_registry()
    projet = registry.find("projet")
    assert projet is not None
    projet.subcommand("statut", fr=("statut",), role=Role.REFERENT)(_handler)
    projet.subcommand("bilan", fr=("bilan",), role=Role.REFERENT, organisers=True)(_handler)
    statut, bilan = projet.find("statut"), projet.find("bilan")
    assert statut is not None and bilan is not None
    member, referent = Asker(Role.PARTICIPANT), Asker(Role.PARTICIPANT, referent=True)
    organiser = Asker(Role.PARTICIPANT, organiser=True)
    assert not statut.visible_to(member) and not bilan.visible_to(member)
    assert statut.visible_to(referent) and bilan.visible_to(referent)
    assert not statut.visible_to(organiser) and bilan.visible_to(organiser)
    assert statut.visible_to(Role.COORDINATOR)
    assert not statut.visible_to(Asker(Role.VISITOR, referent=True, organiser=True))
    assert "aux référents des groupes-projets et à la coordination" in help_index(
        registry, organiser, FR, "!")
    assert "aux référents" not in help_index(registry, referent, FR, "!")
    real = build_registry()
    assert FR("help.role_organiser") in help_detail(_command(real, "rencontre.presences"),
                                                    member, FR, "!")
    assert FR("help.role_referent") in help_detail(_command(real, "rencontre.planifier"),
                                                   member, FR, "!")


def test_help_index_in_english(texts: None) -> None:
    text = help_index(small_registry(), Role.PARTICIPANT, EN, "!")
    assert "**Getting started**" in text
    assert "- `!help` —" in text
    assert "- `!project` — project groups" in text
    assert "!aide" not in text


def test_help_detail_of_a_command() -> None:
    registry = build_registry()
    aide = registry.find("aide")
    assert aide is not None
    text = help_detail(aide, Role.PARTICIPANT, FR, "!")
    assert text.startswith("**!aide** — la liste des commandes")
    assert "`!aide [commande] [sous-commande]`" in text
    assert FR("cmd.aide.help") in text
    assert "Aussi : `!help`, `!commands`" in text
    english = help_detail(aide, Role.PARTICIPANT, EN, "!")
    assert english.startswith("**!help** — ")
    assert "Also: `!aide`, `!commandes`" in english


def test_help_detail_of_a_group_filters_subcommands_by_role(texts: None) -> None:
    projet = small_registry().find("projet")
    assert projet is not None
    participant = help_detail(projet, Role.PARTICIPANT, FR, "!")
    assert "Sous-commandes :" in participant
    assert "- `!projet rejoindre <numéro>` — rejoindre un groupe-projet" in participant
    assert "- `!projet créer" not in participant
    assert participant.endswith("_Réservées à la coordination du club : `créer` (détail : "
                                "`!aide projet créer`)._\n\nAussi : `!project`")
    coordinator = help_detail(projet, Role.COORDINATOR, FR, "!")
    assert "- `!projet créer <titre…>` — créer un groupe-projet" in coordinator
    assert "Réservées" not in coordinator
    # A group has no usage line of its own.
    assert "`!projet <" not in coordinator


def test_help_detail_mentions_the_role(texts: None) -> None:
    secret = small_registry().find("secret")
    assert secret is not None
    assert FR("help.role_coordinator") in help_detail(secret, Role.COORDINATOR, FR, "!")
    ping = small_registry().find("ping")
    assert ping is not None
    assert FR("help.role_coordinator") not in help_detail(ping, Role.COORDINATOR, FR, "!")


# --- parsing ------------------------------------------------------------------------------------

def _command(registry: Registry, key: str) -> Command:
    command = registry.by_key(key)
    assert command is not None
    return command


def test_parse_optional_argument() -> None:
    aide = _command(build_registry(), "aide")
    assert parse(aide, "") == {"command": None, "subcommand": None}
    assert parse(aide, "  Ping ") == {"command": "ping", "subcommand": None}
    assert parse(aide, "Rencontre  Planifier") == {"command": "rencontre",
                                                   "subcommand": "planifier"}


def test_parse_missing_argument() -> None:
    join = _command(small_registry(), "projet.rejoindre")
    with pytest.raises(MissingArgument) as info:
        parse(join, "   ")
    assert info.value.values == {"name": "numero"}


def test_parse_too_many_arguments() -> None:
    aide = _command(build_registry(), "aide")
    with pytest.raises(TooManyArguments) as info:
        parse(aide, "ping cadre encore")
    assert info.value.values == {"extra": "encore"}
    with pytest.raises(TooManyArguments) as info:
        parse(aide, "ping cadre " + "z" * 1000)
    assert info.value.values["extra"] == "z" * 40


def test_parse_rest_parameter_takes_the_remainder() -> None:
    registry = small_registry()
    create = _command(registry, "projet.creer")
    assert parse(create, "  Atelier « vélo » d'été  ") == {"titre": "Atelier « vélo » d'été"}
    note = _command(registry, "note")
    assert parse(note, "@alice:example.org une idée, deux idées") == {
        "personne": "@alice:example.org", "titre": "une idée, deux idées"}
    assert parse(note, "@alice:example.org") == {"personne": "@alice:example.org", "titre": None}


def test_parse_quoted_argument() -> None:
    aide = _command(build_registry(), "aide")
    assert parse(aide, '"ping"') == {"command": "ping", "subcommand": None}
    with pytest.raises(TooManyArguments) as info:
        parse(aide, "« ping » cadre encore")
    assert info.value.values["extra"] == "encore"


def test_parse_converts_with_the_param_converter() -> None:
    join = _command(small_registry(), "projet.rejoindre")
    assert parse(join, "n°12") == {"numero": 12}
    from commands.errors import BadArgument

    with pytest.raises(BadArgument) as info:
        parse(join, "douze")
    assert info.value.message_key == "error.not_integer"


def test_word_converter_is_used_by_help() -> None:
    aide = _command(build_registry(), "aide")
    assert isinstance(aide.params[0].converter, Word)

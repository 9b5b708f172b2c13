"""A sample report document, written by hand: a club's phase 2 (2024 – October 2026) with its
indicators, three charts, a section per event kind and per group, and the annex of tables. For
looking at the report's files (``scripts/check_report_odt.py``) without a database."""

from __future__ import annotations

from commands.reports.document import Chart, Indicator, ReportDocument, Section, Series, Table

YEARS = ("2024", "2025", "2026")

EVENTS = Table(
    "evenements",
    "Événements tenus par type et par année",
    ("Type d'événement", "2024", "2025", "2026", "Total", "Présents"),
    (
        ("Rencontre du club", 4, 4, 3, 11, 412),
        ("Rencontre territoriale", 2, 1, 1, 4, 138),
        ("Webinaire", 3, 5, 4, 12, 655),
        ("Réunion de groupe-projet", 14, 19, 11, 44, 301),
    ),
)
CATEGORIES = Table(
    "categories",
    "Personnes venues par catégorie",
    ("Catégorie", "2024", "2025", "2026", "Total"),
    (
        ("Élus", 48, 61, 40, 149),
        ("Habitants", 210, 264, 198, 672),
        ("Entreprises", 22, 31, 19, 72),
        ("Associations", 35, 42, 37, 114),
        ("Agents", 18, 25, 17, 60),
        ("Non renseigné", 6, 3, 2, 11),
    ),
)
GROUPS = Table(
    "groupes",
    "Groupes-projets actifs dans la période",
    ("Groupe-projet", "Territoire", "Statut au début", "Statut à la fin", "Membres"),
    (
        ("Atelier vélo solidaire", "Communauté de communes du Val", "en lancement", "autonome", 14),
        ("Jardins partagés de l'Ouest", "Ville-centre", "actif", "actif", 22),
        ("Covoiturage domicile-travail", "Communauté de communes des Coteaux", "en lancement", "en pause", 6),
        ("Repair café itinérant", "Tout le territoire", "idée", "actif", 11),
    ),
)
FUNDING = Table(
    "financements",
    "Financements obtenus par les groupes-projets",
    ("Groupe-projet", "Financeur", "Montant (€)", "Date"),
    (
        ("Atelier vélo solidaire", "Région — appel à projets mobilités", 12500.0, "14/03/2025"),
        ("Jardins partagés de l'Ouest", "Fondation de France", 4800.0, "02/09/2024"),
        ("Repair café itinérant", "Commune de Saint-Martin", 1500.0, "21/01/2026"),
    ),
)
ACTIONS = Table(
    "actions",
    "Actions décidées aux rencontres",
    ("Décidée le", "Action", "Pour", "État"),
    (
        (
            "12/03/2024",
            "Cartographier les ateliers de réparation du territoire",
            "Repair café itinérant",
            "faite",
        ),
        ("18/06/2025", "Rédiger la demande de subvention à la Région", "Atelier vélo solidaire", "faite"),
        (
            "07/10/2025",
            "Organiser une rencontre avec les entreprises de la zone d'activité",
            "Covoiturage domicile-travail",
            "à faire",
        ),
    ),
)
REMONTEES = Table("remontees", "Remontées portées aux élus", ("Date", "Remontée", "Réponse"), ())


INDICATORS = (
    Indicator("rencontres", "Rencontres du club tenues", 11, 9),
    Indicator("conjointes", "Rencontres conjointes avec un autre territoire", 4, 6),
    Indicator("mobilisation", "Citoyens mobilisés (personnes distinctes)", 2871, 3500),
    Indicator("webinaires", "Participations aux webinaires", 655, 450),
    Indicator("groupes", "Groupes-projets actifs", 4, 4),
    Indicator("financements", "Financements obtenus (€)", 18800.0),
)

CHARTS = (
    Chart(
        "presences",
        "Présents aux événements par année",
        "stacked",
        YEARS,
        (
            Series("Rencontres du club", (150, 148, 114)),
            Series("Rencontres territoriales", (52, 44, 42)),
            Series("Webinaires", (180, 260, 215)),
            Series("Groupes-projets", (92, 121, 88)),
        ),
        "personnes",
    ),
    Chart(
        "categories",
        "Personnes venues par catégorie",
        "bar",
        tuple(str(row[0]) for row in CATEGORIES.rows),
        tuple(
            Series(year, tuple(float(row[i + 1] or 0) for row in CATEGORIES.rows))
            for i, year in enumerate(YEARS)
        ),
        "personnes",
    ),
    Chart(
        "mobilisation",
        "Citoyens mobilisés, en cumul, face à l'objectif",
        "line",
        (
            "T1 2024",
            "T2 2024",
            "T3 2024",
            "T4 2024",
            "T1 2025",
            "T2 2025",
            "T3 2025",
            "T4 2025",
            "T1 2026",
            "T2 2026",
            "T3 2026",
        ),
        (
            Series("Réalisé", (310, 640, 820, 1105, 1390, 1702, 1880, 2160, 2455, 2690, 2871)),
            Series("Objectif", tuple(round(3500 * q / 11) for q in range(1, 12))),
        ),
        "personnes",
    ),
)

SECTIONS = (
    Section(
        "Les événements",
        (
            "Le club a tenu 71 événements dans la période : rencontres du club, rencontres "
            "territoriales, webinaires et réunions des groupes-projets. Les présents comptent "
            "les membres nommés, leurs invités et les effectifs notés par catégorie, chacun "
            "une fois par événement.",
        ),
        (EVENTS, CATEGORIES),
        (
            Section(
                "Webinaires",
                ("Douze webinaires, dont « Rénover son logement : les aides de 2025 » (96 participants).",),
            ),
        ),
    ),
    Section(
        "Les groupes-projets",
        (
            "Quatre groupes-projets ont été actifs ; l'atelier vélo solidaire est devenu "
            "autonome en 2025 avec le soutien de la Région.",
        ),
        (GROUPS, FUNDING, ACTIONS),
        (
            Section(
                "Atelier vélo solidaire",
                (
                    "Statut : en lancement → autonome.\nBesoins satisfaits : un local prêté par "
                    "la commune, deux bénévoles formés à la mécanique.",
                ),
            ),
            Section(
                "Covoiturage domicile-travail",
                ("Statut : en lancement → en pause, faute de conducteurs réguliers.",),
            ),
        ),
    ),
    Section("Les remontées aux élus", ("Aucune remontée n'a été portée dans la période.",), (REMONTEES,)),
)


def sample_document() -> ReportDocument:
    return ReportDocument(
        file_stem="bilan-phase2",
        title="Club Climat et Transition — bilan de la phase 2",
        subtitle="Rapport d'activité au titre du contrat d'objectifs avec l'ADEME",
        period_label="du 1er janvier 2024 au 31 octobre 2026",
        indicators=INDICATORS,
        charts=CHARTS,
        sections=SECTIONS,
        annex=(EVENTS, CATEGORIES, GROUPS, FUNDING, ACTIONS, REMONTEES),
        notes=(
            "Un participant est une personne venue à au moins un événement, ou membre d'un "
            "groupe-projet ; taper une commande du bot ne suffit pas.",
            "Les effectifs notés par catégorie s'ajoutent aux personnes nommées, sans compter "
            "deux fois la même personne à un même événement.",
        ),
    )

"""Participation figures, the report to ADEME for any period (``!stats``, ``!bilan``) and
personal data (``!profil``, ``!mes-donnees``, ``!oublier-moi``, the retention purge)."""

from commands.capability import Capability
from commands.reports import handlers, privacy
from commands.reports.retention import RETENTION

CAPABILITY = Capability(
    "reports",
    commands=(handlers.stats, handlers.bilan, privacy.profil, privacy.mes_donnees,
              privacy.oublier_moi),
    outcomes={privacy.DIRECT_ROOM_OPENED: privacy.direct_room_opened},
    jobs=(RETENTION,), exports=(handlers.BILAN,))

__all__ = ["CAPABILITY"]

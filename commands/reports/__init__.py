"""Participation figures, the yearly report (``!stats``, ``!bilan``) and personal data
(``!profil``, ``!mes-donnees``, ``!oublier-moi``, the retention purge)."""

from commands.registry import Registry
from commands.reports import handlers, privacy


def register(registry: Registry) -> None:
    handlers.register(registry)
    privacy.register(registry)


__all__ = ["register"]

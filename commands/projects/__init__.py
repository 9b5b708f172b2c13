"""Project groups (groupes-projets): the registry, members, progress, needs, rooms, history."""

from commands.projects.handlers import register

__all__ = ["register"]

"""The user-facing error hierarchy: each carries a catalog key, translated at the boundary."""

from __future__ import annotations


class UserError(Exception):
    """A mistake or refusal to explain to the user in a short message (never an internal error)."""

    key = "error.generic"

    def __init__(self, key: str | None = None, /, **values: object) -> None:
        super().__init__(key or self.key)
        self.message_key = key or self.key
        self.values = values


class BadArgument(UserError):
    """An argument that does not convert; the reply adds the command's usage."""

    key = "error.bad_argument"


class MissingArgument(BadArgument):
    """A required argument left out."""

    key = "error.missing_argument"


class TooManyArguments(BadArgument):
    """Words left over after the last argument."""

    key = "error.too_many_arguments"


class NotFound(UserError):
    """Something named by the user does not exist."""

    key = "error.not_found"


class Forbidden(UserError):
    """The user's role does not allow this command."""

    key = "error.forbidden"


class UnknownCommand(UserError):
    """No command by that name; ``suggestions`` holds the closest names."""

    key = "error.unknown_command"

    def __init__(self, name: str, suggestions: list[str]) -> None:
        super().__init__(self.key, name=name)
        self.name = name
        self.suggestions = suggestions


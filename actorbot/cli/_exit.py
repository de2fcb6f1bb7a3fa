"""Exit codes of the ``actorbot`` command, distinct so scripts and supervisors can tell
a configuration mistake (do not restart) from a crash (restart)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    """Something went wrong while running (the demo left messages unanswered...)."""
    USAGE = 2
    """Bad arguments, or no token in the environment variable (argparse uses 2 too)."""
    IMPORT_ERROR = 3
    """``MODULE:NAME`` (or ``--route MODULE:FUNCTION``) could not be imported, or cannot
    be served as given (not a handler; a plain Handler without ``--route``)."""
    BAD_TOKEN = 4
    """Telegram refused the token (401/404)."""
    CONFLICT = 5
    """A webhook is set for this bot, or another program polls it."""
    INTERRUPTED = 130
    """Ctrl-C before the command could finish (the demo)."""

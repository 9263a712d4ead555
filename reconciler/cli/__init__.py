"""The command line: a thin layer that parses flags, runs one command and maps errors.

Nothing else in reconciler imports this package. Its modules:

- :mod:`~reconciler.cli.parser` — the flags of every command (argparse).
- :mod:`~reconciler.cli.commands` — ``validate``, ``plan``, ``apply``, ``export``,
  ``simulator``: each returns an exit code or raises.
- :mod:`~reconciler.cli.show` — ``show`` (a saved plan) and ``schema``: no network.
- :mod:`~reconciler.cli.encoding` — ASCII fallbacks for terminals that lack a symbol.
- :mod:`~reconciler.cli.api` — the API client a command talks to, and its credentials.
- :mod:`~reconciler.cli.runtime` — :class:`Runtime`, the clocks a command runs on.

Exit codes: 0 success (no changes, or everything applied); 2 changes present (``plan
--detailed-exitcode`` only); for an error, its class's ``exit_code`` (1, or 130 for an
interrupted apply; see :mod:`reconciler.errors`); 130 for Ctrl-C; 1 for a bug.

Heavy imports happen inside the commands so that ``--version`` and ``validate`` start fast.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from reconciler.cli.api import KEY_ENVS, SECRET_ENVS, open_api
from reconciler.cli.commands import EXIT_CHANGES, EXIT_OK
from reconciler.cli.encoding import use_fallbacks
from reconciler.cli.parser import build_parser, parse_args, parse_duration
from reconciler.cli.runtime import Runtime
from reconciler.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    ApplyFailedError,
    ApplyInterruptedError,
    AuthenticationError,
    ReconcilerError,
    SpecError,
)

__all__ = [
    "EXIT_CHANGES",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Runtime",
    "build_parser",
    "describe",
    "main",
    "open_api",
    "parse_args",
    "parse_duration",
]

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None, runtime: Runtime | None = None) -> int:
    """Run the command line on ``runtime`` (default: real time); return the exit code.

    Every :class:`ReconcilerError` becomes its :func:`describe` text on stderr and its
    class's ``exit_code``. Bad flags exit (``SystemExit``) with 1, as argparse does.
    """
    use_fallbacks(sys.stdout, sys.stderr)
    args = parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return int(args.run(args, runtime or Runtime()))
    except ReconcilerError as exc:
        print(describe(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line, the traceback only with -v
        log.debug("internal error", exc_info=True)
        print(
            f"internal error: {type(exc).__name__}: {exc} (run with -v for details)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def describe(exc: ReconcilerError) -> str:
    """Return what stderr shows for ``exc``: one or more lines, no final newline.

    The most specific class in :data:`_SHOWN` decides; most errors are ``error: <message>``.
    """
    show = next(_SHOWN[cls] for cls in type(exc).__mro__ if cls in _SHOWN)
    return show(exc)


def _problems(exc: SpecError) -> str:
    count = len(exc.problems)
    total = f"{count} problem{'s' if count != 1 else ''} found."
    return "\n".join([*(str(problem) for problem in exc.problems), total])


def _interrupted(exc: ApplyInterruptedError) -> str:
    return f"{exc.report.summary_text()}\nInterrupted: {exc.how}."


def _apply_failed(exc: ApplyFailedError) -> str:
    return f"{exc.report.summary_text()}\nerror: {exc}"


def _refused_credentials(exc: AuthenticationError) -> str:
    return f"error: {exc} (check {KEY_ENVS[0]} and {SECRET_ENVS[0]})"


def _plain(exc: ReconcilerError) -> str:
    return f"error: {exc}"


# How each kind of error is shown; a class not listed is shown as its nearest listed base.
_SHOWN: dict[type[ReconcilerError], Callable[[Any], str]] = {
    SpecError: _problems,
    ApplyInterruptedError: _interrupted,
    ApplyFailedError: _apply_failed,
    AuthenticationError: _refused_credentials,
    ReconcilerError: _plain,
}


#: Libraries whose warnings (urllib3's "Retrying …" lines) are shown only from ``-v`` on:
#: the one clear error line that follows says what failed.
QUIET_LIBRARIES = ("urllib3",)


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR if verbose == 0 else logging.NOTSET)

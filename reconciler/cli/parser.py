"""The argument parser of every command (argparse); each command's ``run`` is set here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from reconciler import __version__
from reconciler.cli import commands, show
from reconciler.cli.runtime import DEFAULT_REQUESTS_PER_MINUTE, MAX_PARALLEL
from reconciler.errors import UsageError


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags; 2 means "changes present" here, so exit 1 instead.

    Abbreviated flags are refused: ``--for`` could mean ``--force`` or ``--format``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(UsageError.exit_code, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every command; ``args.run(args, runtime)`` runs one.

    The global flags (``-v``, ``--api-url``, ``--no-color``) are accepted before or after
    the command; use :func:`parse_args` to read them merged.
    """
    parser = _Parser(
        prog="reconciler",
        description="Keep Redis Cloud Pro databases in line with YAML files kept in git.",
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    _add_global_options(parser, top=True)
    _add_api_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    _add_validate(subparsers)
    _add_plan(subparsers)
    _add_apply(subparsers)
    _add_export(subparsers)
    _add_simulator(subparsers)
    _add_show(subparsers)
    _add_schema(subparsers)
    for sub in subparsers.choices.values():
        _add_global_options(sub, top=False)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Return the parsed flags; ``verbose`` counts ``-v`` before and after the command.

    An unknown flag exits 1 with the usage of the command it was given to.
    """
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        _usage_error(parser, list(argv if argv is not None else sys.argv[1:]), args, extras)
    args.verbose += args.__dict__.pop("command_verbose", 0)
    return args


def _usage_error(
    parser: argparse.ArgumentParser,
    argv: list[str],
    args: argparse.Namespace,
    extras: list[str],
) -> NoReturn:
    """Exit with the usage of the parser the first unknown argument was given to."""
    command = args.command
    sub = _subcommands(parser)[command]
    given_to_command = command in argv and extras[0] in argv[argv.index(command) + 1 :]
    (sub if given_to_command else parser).error(f"unrecognized arguments: {' '.join(extras)}")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _add_global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    """Add ``-v`` and ``--no-color``; after the command they only override what was given."""
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        dest="verbose" if top else "command_verbose",
        default=0,
        help="more logging (-vv for HTTP debug)",
    )
    p.add_argument(
        "--no-color",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="no colour in the plan (as NO_COLOR=1 does)",
    )


def parse_duration(text: str) -> float:
    """Return seconds for ``90``, ``90s``, ``30m``, ``1h``, ``1h30m``; argparse-friendly.

    Raises:
        argparse.ArgumentTypeError: not a duration, or not positive.
    """
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    total, number = 0.0, ""
    for char in text.strip().lower():
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise argparse.ArgumentTypeError(f"invalid duration {text!r} (e.g. 90s, 30m, 1h)")
    if number:
        total += float(number)
    if total <= 0:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: must be positive")
    return total


def _add_validate(subparsers: Any) -> None:
    p = subparsers.add_parser("validate", help="load and validate spec files; no network")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec file or folder")
    p.add_argument(
        "--require-env",
        action="store_true",
        help="an unset ${VAR} is an error (default: a note; the check runs on a placeholder)",
    )
    p.add_argument("--allow-missing-env", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(run=commands.run_validate)


def _add_api_options(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    p.add_argument(
        "--api-url",
        default=None if top else argparse.SUPPRESS,
        help="API base URL (default: $REDIS_API_URL or https://api.redislabs.com/v1); "
        "'sim:' or 'sim:STATEFILE' runs the built-in simulator",
    )


def _add_plan(subparsers: Any) -> None:
    p = subparsers.add_parser("plan", help="read the live account, diff, print the plan")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec file or folder")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--out", metavar="FILE", help="save the plan (json + fingerprint)")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes, 0 when none, 1 on error",
    )
    p.add_argument("--force", action="store_true", help="allow deletes over the safety threshold")
    _add_subscription_filter(p, "plan only this subscription of the spec (repeatable)")
    _add_api_options(p)
    _add_budget(p)
    p.set_defaults(run=commands.run_plan)


def _add_apply(subparsers: Any) -> None:
    p = subparsers.add_parser("apply", help="plan, then execute the plan")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec file or folder")
    p.add_argument("--yes", action="store_true", help="apply without asking")
    p.add_argument("--plan", metavar="FILE", help="apply only if this saved plan is still current")
    p.add_argument("--force", action="store_true", help="allow deletes over the safety threshold")
    p.add_argument(
        "--timeout",
        default="1h",
        type=parse_duration,
        metavar="DURATION",
        help="longest wait for any one action, e.g. 90s, 30m, 1h (default 1h)",
    )
    p.add_argument(
        "--busy-timeout",
        default="10m",
        type=parse_duration,
        metavar="DURATION",
        help="longest wait for other work: another run's tasks, or a write refused as "
        "busy / not active (default 10m; never longer than --timeout)",
    )
    p.add_argument(
        "--no-wait-for-others",
        dest="wait_for_others",
        action="store_false",
        help="fail at once when another run's task is unfinished instead of waiting for it",
    )
    p.add_argument(
        "--parallel",
        default=1,
        type=_parallel,
        metavar="N",
        help="apply up to N subscriptions at the same time, each strictly in plan order "
        f"(default 1: one action at a time; at most {MAX_PARALLEL}, the API's limit)",
    )
    p.add_argument("--report", metavar="FILE", help="write the run as JSON")
    _add_subscription_filter(p, "apply only this subscription of the spec (repeatable)")
    _add_api_options(p)
    _add_budget(p)
    p.set_defaults(run=commands.run_apply)


def _add_budget(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-requests-per-minute",
        default=DEFAULT_REQUESTS_PER_MINUTE,
        type=_positive_int,
        metavar="N",
        help="keep this run's API requests under N in any minute "
        f"(default {DEFAULT_REQUESTS_PER_MINUTE}: half the account's limit of 400)",
    )


def _positive_int(text: str) -> int:
    """Return ``text`` as a whole number of at least 1; argparse-friendly.

    Raises:
        argparse.ArgumentTypeError: not a whole number, or below 1.
    """
    try:
        number = int(text)
    except ValueError:
        message = f"invalid number {text!r}: expected a whole number"
        raise argparse.ArgumentTypeError(message) from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: must be at least 1")
    return number


def _parallel(text: str) -> int:
    """Return ``--parallel``'s lanes: 1 to :data:`MAX_PARALLEL`; argparse-friendly.

    A number above the API's limit is refused rather than quietly lowered: the user asked
    for something the API cannot do.

    Raises:
        argparse.ArgumentTypeError: not a whole number from 1 to MAX_PARALLEL.
    """
    number = _positive_int(text)
    if number > MAX_PARALLEL:
        raise argparse.ArgumentTypeError(
            f"invalid number {text!r}: at most {MAX_PARALLEL} (the API works on at most "
            f"{MAX_PARALLEL} subscriptions that are not active at once)"
        )
    return number


def _add_subscription_filter(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument(
        "--subscription", action="append", type=int, default=None, metavar="ID", help=text
    )


def _add_export(subparsers: Any) -> None:
    p = subparsers.add_parser("export", help="write live databases as a spec")
    _add_subscription_filter(p, "subscription to export (repeatable; default: all)")
    p.add_argument("--out", metavar="PATH", help="file (or folder with --split); default stdout")
    p.add_argument("--split", action="store_true", help="one file per subscription")
    _add_api_options(p)
    p.set_defaults(run=commands.run_export)


def _add_simulator(subparsers: Any) -> None:
    p = subparsers.add_parser("simulator", help="run the local Redis Cloud API simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--state", metavar="FILE", help="where the account is saved")
    p.add_argument("--seed", metavar="FILE", help="YAML seed for a new account")
    p.add_argument("--api-key", default="sim-key")
    p.add_argument("--api-secret", default="sim-secret")
    p.add_argument("--task-seconds", type=float, default=2.0)
    p.add_argument("--provision-seconds", type=float, default=5.0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--rate-limit", type=int, default=0, help="requests/minute per key; 0 = off")
    p.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    p.add_argument("--fault-seed", type=int, default=0)
    p.set_defaults(run=commands.run_simulator)


def _add_show(subparsers: Any) -> None:
    p = subparsers.add_parser("show", help="print a saved plan (plan --out FILE); no network")
    p.add_argument("planfile", metavar="PLANFILE", help="a file written by plan --out")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.set_defaults(run=show.run_show)


def _add_schema(subparsers: Any) -> None:
    p = subparsers.add_parser("schema", help="print the spec's JSON Schema (or the plan's)")
    p.add_argument("--plan", action="store_true", help="the schema of plan --format json")
    p.set_defaults(run=show.run_schema)

"""The command line: a thin layer that parses flags, calls the pipeline and maps errors.

Nothing imports this module. Every other module raises :class:`ReconcilerError`
subclasses; :func:`main` turns them into messages and exit codes in one place:

* 0 — success (no changes, or everything applied)
* 1 — error (invalid spec, refused plan, API failure, stale plan, bad flags)
* 2 — changes present (``plan --detailed-exitcode`` only)
* 130 — interrupted

Heavy imports happen inside the command functions so that ``--version`` and ``validate``
start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from reconciler import __version__
from reconciler.errors import (
    ApplyFailedError,
    ApplyInterruptedError,
    AuthenticationError,
    ReconcilerError,
    SpecError,
    UsageError,
)

if TYPE_CHECKING:
    from reconciler.cloud import ApiClient
    from reconciler.model import DesiredState, LiveState
    from reconciler.plan import Plan

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130

API_URL_ENV = "REDIS_API_URL"
KEY_ENVS = ("REDIS_API_KEY", "REDISCLOUD_ACCESS_KEY")
SECRET_ENVS = ("REDIS_API_SECRET", "REDISCLOUD_SECRET_KEY")

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags; 2 means "changes present" here, so exit 1 instead."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return int(args.run(args))
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found.", file=sys.stderr)
        return EXIT_ERROR
    except ApplyInterruptedError as exc:
        print(exc.report.summary_text(), file=sys.stderr)
        print("Interrupted: stopped after the current request.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ApplyFailedError as exc:
        print(exc.report.summary_text(), file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except AuthenticationError as exc:
        print(f"error: {exc} (check REDIS_API_KEY and REDIS_API_SECRET)", file=sys.stderr)
        return EXIT_ERROR
    except ReconcilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
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


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every command."""
    parser = _Parser(
        prog="reconciler",
        description="Keep Redis Cloud Pro databases in line with YAML files kept in git.",
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv for HTTP debug)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    _add_validate(commands)
    _add_plan(commands)
    _add_apply(commands)
    _add_export(commands)
    _add_simulator(commands)
    return parser


def _add_validate(commands: Any) -> None:
    p = commands.add_parser("validate", help="load and validate spec files; no network")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec file or folder")
    p.add_argument(
        "--allow-missing-env",
        action="store_true",
        help="treat unset ${VARS} as set (for pre-commit hooks and editors without secrets)",
    )
    p.set_defaults(run=run_validate)


def _add_api_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--api-url",
        default=None,
        help="API base URL (default: $REDIS_API_URL or https://api.redislabs.com/v1); "
        "'sim:' or 'sim:STATEFILE' runs the built-in simulator",
    )


def _add_plan(commands: Any) -> None:
    p = commands.add_parser("plan", help="read the live account, diff, print the plan")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec file or folder")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--out", metavar="FILE", help="save the plan (json + fingerprint)")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes, 0 when none, 1 on error",
    )
    p.add_argument("--force", action="store_true", help="allow deletes over the safety threshold")
    _add_api_options(p)
    p.set_defaults(run=run_plan)


def _add_apply(commands: Any) -> None:
    p = commands.add_parser("apply", help="plan, then execute the plan")
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
    p.add_argument("--report", metavar="FILE", help="write the run as JSON")
    _add_api_options(p)
    p.set_defaults(run=run_apply)


def _add_export(commands: Any) -> None:
    p = commands.add_parser("export", help="write live databases as a spec")
    p.add_argument(
        "--subscription",
        action="append",
        type=int,
        default=None,
        metavar="ID",
        help="subscription to export (repeatable; default: all)",
    )
    p.add_argument("--out", metavar="PATH", help="file (or folder with --split); default stdout")
    p.add_argument("--split", action="store_true", help="one file per subscription")
    _add_api_options(p)
    p.set_defaults(run=run_export)


def _add_simulator(commands: Any) -> None:
    p = commands.add_parser("simulator", help="run the local Redis Cloud API simulator")
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
    p.set_defaults(run=run_simulator)


def parse_duration(text: str) -> float:
    """Return seconds for ``90``, ``90s``, ``30m``, ``1h``, ``1h30m``; argparse-friendly."""
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


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# --- commands -------------------------------------------------------------------------------


def run_validate(args: argparse.Namespace) -> int:
    """``reconciler validate``: load and validate only."""
    environ: Mapping[str, str] = os.environ
    if args.allow_missing_env:
        environ = _PlaceholderEnviron(os.environ)
    desired = _load(args.paths, environ)
    databases = sum(len(s.databases) for s in desired.subscriptions)
    print(
        f"{len(desired.files)} file(s) valid: {len(desired.subscriptions)} subscription(s), "
        f"{databases} database(s)."
    )
    return EXIT_OK


def run_plan(args: argparse.Namespace) -> int:
    """``reconciler plan``: read, diff, print; optionally save."""
    import secrets

    from reconciler.render import render_json, render_markdown, render_text, write_plan_file

    desired = _load(args.paths)
    salt = secrets.token_hex(16)
    with open_api(args.api_url) as client:
        plan = _build_plan(client, desired, force=args.force, salt=salt)
    if args.format == "json":
        sys.stdout.write(render_json(plan))
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(plan))
    else:
        sys.stdout.write(render_text(plan, color=_color(sys.stdout)))
    if plan.refusals:
        print(
            "error: plan refused; nothing will be applied (see 'Refused' above).", file=sys.stderr
        )
        return EXIT_ERROR
    if args.out:
        write_plan_file(args.out, plan, salt=salt, spec_paths=args.paths)
        print(f"Plan saved to {args.out}.", file=sys.stderr)
    if args.detailed_exitcode and plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def run_apply(args: argparse.Namespace) -> int:
    """``reconciler apply``: plan, confirm, execute, report."""
    import secrets

    from reconciler.errors import StalePlanError
    from reconciler.render import read_plan_file, render_text

    desired = _load(args.paths)
    saved = read_plan_file(args.plan) if args.plan else None
    salt = saved.salt if saved else secrets.token_hex(16)
    with open_api(args.api_url) as client:
        plan = _build_plan(client, desired, force=args.force, salt=salt)
        if saved and saved.fingerprint != plan.fingerprint:
            raise StalePlanError(args.plan)
        sys.stdout.write(render_text(plan, color=_color(sys.stdout)))
        if plan.refusals:
            raise UsageError("plan refused; nothing was applied (see 'Refused' above)")
        if not plan.has_changes:
            return EXIT_OK
        if not (args.yes or saved):
            _confirm()
        return _execute(plan, client, args)


def run_export(args: argparse.Namespace) -> int:
    """``reconciler export``: write the live databases as a spec."""
    from reconciler.export import export_account

    with open_api(args.api_url) as client:
        written = export_account(
            client, subscription_ids=args.subscription, out=args.out, split=args.split
        )
    if written is not None:
        sys.stdout.write(written)
    return EXIT_OK


def run_simulator(args: argparse.Namespace) -> int:
    """``reconciler simulator``: serve the API simulator until Ctrl-C."""
    from pathlib import Path

    from reconciler.simulator import SimulatorConfig, serve_forever

    config = SimulatorConfig(
        host=args.host,
        port=args.port,
        state_path=Path(args.state) if args.state else None,
        seed_path=Path(args.seed) if args.seed else None,
        api_key=args.api_key,
        api_secret=args.api_secret,
        task_seconds=args.task_seconds,
        provision_seconds=args.provision_seconds,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        log=_print_line,
    )
    serve_forever(config)
    return EXIT_OK


# --- helpers --------------------------------------------------------------------------------


_PRINT_LOCK = threading.Lock()


def _print_line(line: str) -> None:
    """Print one whole line; safe from the simulator's request threads."""
    with _PRINT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _load(paths: Sequence[str], environ: Mapping[str, str] | None = None) -> DesiredState:
    from reconciler.spec import load_spec

    return load_spec(paths, os.environ if environ is None else environ)


class _PlaceholderEnviron(Mapping[str, str]):
    """The environment, where every unset variable reads as a placeholder value."""

    PLACEHOLDER = "unset-variable-placeholder"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ.get(name, self.PLACEHOLDER)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


def _build_plan(client: ApiClient, desired: DesiredState, *, force: bool, salt: str) -> Plan:
    from reconciler.cloud import read_live
    from reconciler.planning import build_plan

    live: LiveState = read_live(client, desired)
    return build_plan(desired, live, force=force, salt=salt)


def _color(stream: TextIO) -> bool:
    from reconciler.render import color_enabled

    return color_enabled(stream, os.environ)


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise UsageError(
            "refusing to apply without confirmation: pass --yes (or --plan FILE) "
            "when not on a terminal"
        )
    answer = input("\nApply these changes? Only 'yes' is accepted: ")
    if answer.strip() != "yes":
        raise UsageError("apply cancelled; nothing was changed")


def _execute(plan: Plan, client: ApiClient, args: argparse.Namespace) -> int:
    import signal

    from reconciler.apply import apply_plan, make_progress

    stop = {"requested": False}

    def on_sigint(signum: int, frame: Any) -> None:
        if stop["requested"]:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        stop["requested"] = True
        print("\nStopping after the current request (Ctrl-C again to abort)…", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    progress = make_progress(sys.stdout, tty=sys.stdout.isatty())
    report = None
    try:
        report = apply_plan(
            plan,
            client,
            timeout=args.timeout,
            progress=progress,
            stop_requested=lambda: stop["requested"],
        )
    except (ApplyFailedError, ApplyInterruptedError) as exc:
        report = exc.report
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        if report is not None and args.report:
            _write_report(args.report, report)
    print(report.summary_text())
    return EXIT_OK


def _write_report(path: str, report: Any) -> None:
    import json

    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report.to_dict(), fh, indent=2)
        fh.write("\n")


@contextmanager
def open_api(api_url: str | None) -> Iterator[ApiClient]:
    """Yield an API client for ``api_url`` (or the env/default), simulator included.

    Raises UsageError for missing credentials or a refused URL.
    """
    from reconciler.cloud import DEFAULT_API_URL, ApiClient, check_api_url

    url = api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL
    if url.startswith("sim:"):
        from reconciler.simulator import start_for_url

        with start_for_url(url) as sim, ApiClient(sim.url, sim.api_key, sim.api_secret) as client:
            yield client
        return
    base = check_api_url(url)
    key, secret = _credentials()
    with ApiClient(base, key, secret) as client:
        yield client


def _credentials() -> tuple[str, str]:
    key = next((os.environ[n] for n in KEY_ENVS if os.environ.get(n)), None)
    secret = next((os.environ[n] for n in SECRET_ENVS if os.environ.get(n)), None)
    if key and secret:
        return key, secret
    missing = " and ".join(
        names[0] for names, value in ((KEY_ENVS, key), (SECRET_ENVS, secret)) if not value
    )
    raise UsageError(
        f"missing API credentials: set {missing} (or REDISCLOUD_ACCESS_KEY / REDISCLOUD_SECRET_KEY)"
    )

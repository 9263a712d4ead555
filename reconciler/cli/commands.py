"""The commands: each takes its parsed flags and a :class:`Runtime`, returns an exit code.

Errors are raised, never printed here (the package's ``main`` shows them). Heavy imports
happen inside the functions so that ``--version`` and ``validate`` start fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from reconciler.cli.abort import RunTracker
from reconciler.cli.api import open_api
from reconciler.cli.runtime import Runtime
from reconciler.errors import (
    ApplyFailedError,
    ApplyInterruptedError,
    PlanRefusedError,
    StalePlanError,
    UsageError,
)

if TYPE_CHECKING:
    from reconciler.cloud import ApiClient
    from reconciler.model import DesiredState
    from reconciler.plan import Plan

EXIT_OK = 0
EXIT_CHANGES = 2


def run_validate(args: argparse.Namespace, runtime: Runtime) -> int:
    """``reconciler validate``: load and validate only; no network, no secrets needed.

    An unset ``${VAR}`` reads as a placeholder, so everything else is still checked; each
    such reference is a note on stderr (with its location). With ``--require-env`` it is an
    error, as it is for ``plan`` and ``apply``.

    Raises:
        SpecError: the spec files hold problems.
    """
    environ: Mapping[str, str] = os.environ
    placeholder = _PlaceholderEnviron(os.environ)
    if not args.require_env:
        environ = placeholder
    desired = _load(args.paths, environ)
    if placeholder.missing:
        _note_missing_env(args.paths)
    databases = sum(len(s.databases) for s in desired.subscriptions)
    print(
        f"{len(desired.files)} file(s) valid: {len(desired.subscriptions)} subscription(s), "
        f"{databases} database(s)."
    )
    return EXIT_OK


def _note_missing_env(paths: Sequence[str]) -> None:
    """Print a located note on stderr for every unset ``${VAR}`` in the spec files."""
    import logging

    from reconciler.errors import SpecError

    logging.disable(logging.INFO)  # the first load logged already
    try:
        _load(paths)
    except SpecError as exc:
        for problem in exc.problems:
            if problem.message.endswith(" not set"):
                print(f"note: {problem} (plan and apply need it)", file=sys.stderr)
    finally:
        logging.disable(logging.NOTSET)


def run_plan(args: argparse.Namespace, runtime: Runtime) -> int:
    """``reconciler plan``: read, diff, print; optionally save.

    Returns 2 with ``--detailed-exitcode`` for changes or notices (fields that could not
    be compared: not "in sync"), else 0.

    Raises:
        PlanRefusedError: the plan (printed already) breaks a safety rule; nothing is saved.
    """
    import secrets

    from reconciler.render import (
        plan_file_document,
        render_json,
        render_markdown,
        render_text,
        write_plan_file,
    )

    desired = _only_subscriptions(_load(args.paths), args.subscription)
    salt = secrets.token_hex(16)
    runtime = _budgeted(runtime, args)
    with open_api(args.api_url, runtime) as client:
        plan, basis = _build_plan(
            client, desired, runtime, force=args.force, salt=salt, basis=bool(args.out)
        )
    if args.format == "json":
        sys.stdout.write(render_json(plan))
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(plan))
    else:
        sys.stdout.write(render_text(plan, color=_color(sys.stdout, args)))
    if plan.refusals:
        raise PlanRefusedError(plan.refusals, command="plan")
    if args.out:
        document = plan_file_document(
            plan, salt=salt, spec_paths=args.paths, filters=_filters(args), basis=basis
        )
        write_plan_file(args.out, document)
        print(f"Plan saved to {args.out}.", file=sys.stderr)
    if args.detailed_exitcode and (plan.has_changes or plan.notices):
        return EXIT_CHANGES
    return EXIT_OK


def run_apply(args: argparse.Namespace, runtime: Runtime) -> int:
    """``reconciler apply``: plan, confirm, execute, report.

    Raises:
        StalePlanError: ``--plan FILE`` no longer matches the spec and the account.
        PlanRefusedError: the plan (printed already) breaks a safety rule.
        UsageError: no confirmation.
        ApplyFailedError, ApplyInterruptedError: the run stopped (they carry its report).
    """
    import secrets

    from reconciler.render import plan_file_document, read_plan_file, render_text, stale_reasons

    desired = _only_subscriptions(_load(args.paths), args.subscription)
    saved = read_plan_file(args.plan) if args.plan else None
    salt = saved.salt if saved else secrets.token_hex(16)
    runtime = _budgeted(runtime, args)
    with open_api(args.api_url, runtime) as client:
        plan, basis = _build_plan(
            client, desired, runtime, force=args.force, salt=salt, basis=saved is not None
        )
        if saved:
            fresh = plan_file_document(
                plan, salt=salt, spec_paths=args.paths, filters=_filters(args), basis=basis
            )
            moved = stale_reasons(saved.data, fresh)
            if moved:
                raise StalePlanError(args.plan, moved)
        sys.stdout.write(render_text(plan, color=_color(sys.stdout, args)))
        if plan.refusals:
            raise PlanRefusedError(plan.refusals, command="apply")
        if not plan.has_changes:
            return EXIT_OK
        if not (args.yes or saved):
            _confirm()
        return _execute(plan, client, args, runtime)


def run_export(args: argparse.Namespace, runtime: Runtime) -> int:
    """``reconciler export``: write the live databases as a spec (stdout without ``--out``)."""
    from reconciler.export import export_account

    with open_api(args.api_url, runtime) as client:
        written = export_account(
            client, subscription_ids=args.subscription, out=args.out, split=args.split
        )
    if written is not None:
        sys.stdout.write(written)
    return EXIT_OK


def run_simulator(args: argparse.Namespace, runtime: Runtime) -> int:
    """``reconciler simulator``: serve the API simulator until Ctrl-C.

    The simulator keeps real time: it serves other processes, whose clocks are real.

    Raises:
        UsageError: the folder of ``--state`` does not exist.
    """
    from pathlib import Path

    from reconciler.simulator import SimulatorConfig, serve_forever

    state = Path(args.state) if args.state else None
    if state is not None and not state.parent.is_dir():
        raise UsageError(f"--state: folder does not exist: {state.parent}")
    config = SimulatorConfig(
        host=args.host,
        port=args.port,
        state_path=state,
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
    """The environment, where every unset variable reads as a placeholder value.

    ``missing`` holds the names of the unset variables that were read.
    """

    PLACEHOLDER = "unset-variable-placeholder"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.missing: set[str] = set()

    def __getitem__(self, name: str) -> str:
        if name not in self._environ:
            self.missing.add(name)
        return self._environ.get(name, self.PLACEHOLDER)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


def _build_plan(
    client: ApiClient,
    desired: DesiredState,
    runtime: Runtime,
    *,
    force: bool,
    salt: str,
    basis: bool = False,
) -> tuple[Plan, dict[str, Any]]:
    """Return the plan and, with ``basis``, the digests a plan file keeps (else {})."""
    from reconciler.cloud import read_live
    from reconciler.planning import build_plan, fingerprint_basis
    from reconciler.preflight import check_account

    live = read_live(client, desired, concurrency=runtime.read_concurrency)
    check_account(client, desired, live)  # raises SpecError before any change
    plan = build_plan(desired, live, force=force, salt=salt)
    return plan, fingerprint_basis(live, desired, salt) if basis else {}


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that shape a plan, as a plan file records them."""
    filters: dict[str, Any] = {"force": bool(args.force)}
    if args.subscription:
        filters["subscriptions"] = sorted(set(args.subscription))
    return filters


def _only_subscriptions(desired: DesiredState, wanted: Sequence[int] | None) -> DesiredState:
    """Keep the subscriptions ``--subscription`` names (all when none): only those are read,
    planned and applied, and prune acts only inside them.

    Raises:
        UsageError: a named subscription is in no spec file.
    """
    if not wanted:
        return desired
    unknown = sorted(set(wanted) - {s.id for s in desired.subscriptions})
    if unknown:
        names = ", ".join(str(i) for i in unknown)
        raise UsageError(f"--subscription {names}: in no spec file given")
    kept = tuple(s for s in desired.subscriptions if s.id in set(wanted))
    return dataclasses.replace(desired, subscriptions=kept)


def _color(stream: TextIO, args: argparse.Namespace | None = None) -> bool:
    from reconciler.render import color_enabled

    if args is not None and getattr(args, "no_color", False):
        return False
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


def _execute(plan: Plan, client: ApiClient, args: argparse.Namespace, runtime: Runtime) -> int:
    import signal

    from reconciler.apply import apply_plan, make_progress

    stop = {"requested": False}

    def on_sigint(signum: int, frame: Any) -> None:
        if stop["requested"]:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        stop["requested"] = True
        print("\nStopping after the current request (Ctrl-C again to abort)…", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    progress = make_progress(
        sys.stdout, tty=sys.stdout.isatty(), wall_clock=runtime.wall_clock, parallel=args.parallel
    )
    tracker = RunTracker(client, progress, runtime.clock, runtime.wall_clock, args.parallel)
    report = None
    try:
        report = apply_plan(
            plan,
            tracker,
            timeout=args.timeout,
            busy_timeout=args.busy_timeout,
            wait_for_others=args.wait_for_others,
            progress=tracker,
            stop_requested=lambda: stop["requested"],
            clock=runtime.clock,
            sleep=runtime.sleep,
            wall_clock=runtime.wall_clock,
            parallel=args.parallel,
            run_lanes=runtime.run_lanes,
        )
    except (ApplyFailedError, ApplyInterruptedError) as exc:
        report = exc.report
        raise
    except KeyboardInterrupt:  # the second Ctrl-C: report what was under way, exit 130
        report = tracker.aborted_report(plan.actions)
        raise ApplyInterruptedError(report, how="aborted at once by a second Ctrl-C") from None
    finally:
        signal.signal(signal.SIGINT, previous)
        if report is not None and args.report:
            _write_report(args.report, report)
    print(report.summary_text())
    return EXIT_OK


def _budgeted(runtime: Runtime, args: argparse.Namespace) -> Runtime:
    """Return ``runtime`` with the request budget of ``--max-requests-per-minute``."""
    return dataclasses.replace(runtime, max_requests_per_minute=args.max_requests_per_minute)


def _write_report(path: str, report: Any) -> None:
    import json

    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report.to_dict(), fh, indent=2)
        fh.write("\n")

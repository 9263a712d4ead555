"""``reconciler export``: write the live databases of an account as a spec.

The export is a starting point for a GitOps repository, so ``reconciler plan`` on it must
show no change. The work is split by concern:

- :mod:`.reading` — which subscriptions, read with their databases;
- :mod:`.fields` — a live database → the non-default spec fields, settled with the planner's
  own comparison;
- :mod:`.document` — the spec text: modeline, header, password placeholders;
- :mod:`.files` — ``--out`` checks and atomic file writes.
"""

from __future__ import annotations

import logging
from pathlib import Path

from reconciler.cloud import ApiClient
from reconciler.export.document import Placeholders, spec_text
from reconciler.export.files import check_out, split_file_name, write_file
from reconciler.export.reading import read_subscriptions

log = logging.getLogger(__name__)


def export_account(
    client: ApiClient, *, subscription_ids: list[int] | None, out: str | None, split: bool
) -> str | None:
    """Export the databases of the given subscriptions (None: every Pro single-region one).

    Returns the YAML text when ``out`` is None; otherwise writes ``out`` (a file, or with
    ``split`` a folder holding ``<subscription-name>-<id>.yaml`` per subscription) and
    returns None. Files are replaced atomically.

    Raises:
        UsageError: ``--split`` without ``--out``, an ``--out`` of the wrong kind, a named
            subscription that does not exist or is not Pro single-region, a failed write.
        ApiError: reading the account failed.
    """
    check_out(out, split)
    live = read_subscriptions(client, subscription_ids)
    placeholders = Placeholders()
    if out is None:
        return spec_text(live, Path.cwd(), placeholders)
    if not split:
        write_file(Path(out), spec_text(live, Path(out).resolve().parent, placeholders))
        return None
    for sub in live:
        text = spec_text([sub], Path(out).resolve(), placeholders)
        write_file(Path(out) / split_file_name(sub), text)
    if not live:
        log.warning("no subscription to export: nothing written")
    return None

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
from reconciler.export.document import (
    SCHEMA_FILE,
    STDOUT_SCHEMA_NOTE,
    Placeholders,
    schema_reference,
    spec_text,
)
from reconciler.export.files import check_out, split_file_name, write_file
from reconciler.export.reading import read_subscriptions
from reconciler.spec import packaged_schema_text

log = logging.getLogger(__name__)


def export_account(
    client: ApiClient, *, subscription_ids: list[int] | None, out: str | None, split: bool
) -> str | None:
    """Export the databases of the given subscriptions (None: every Pro single-region one).

    Returns the YAML text when ``out`` is None; otherwise writes ``out`` (a file, or with
    ``split`` a folder holding ``<subscription-name>-<id>.yaml`` per subscription) and
    returns None. Files are replaced atomically. The modeline names the nearest
    ``reconciler.schema.json`` in the folder written or above; when there is none, a copy of
    the schema is written beside the files (stdout: a header line says how to make it).

    Raises:
        UsageError: ``--split`` without ``--out``, an ``--out`` of the wrong kind, a named
            subscription that does not exist or is not Pro single-region, a failed write.
        ApiError: reading the account failed.
    """
    check_out(out, split)
    live = read_subscriptions(client, subscription_ids)
    placeholders = Placeholders()
    if out is None:
        found = schema_reference(Path.cwd())
        note = "" if found else STDOUT_SCHEMA_NOTE
        return spec_text(live, found or SCHEMA_FILE, placeholders, note=note)
    folder = Path(out) if split else Path(out).parent
    if split and not live:
        log.warning("no subscription to export: nothing written")
        return None
    found = schema_reference(folder.resolve())
    schema = found or SCHEMA_FILE
    if not split:
        write_file(Path(out), spec_text(live, schema, placeholders))
    for sub in live if split else ():
        write_file(Path(out) / split_file_name(sub), spec_text([sub], schema, placeholders))
    if found is None:  # the modeline names a schema beside the files: put it there
        write_file(folder / SCHEMA_FILE, packaged_schema_text())
        log.warning("wrote %s for the editor modeline (no schema file above)", folder / SCHEMA_FILE)
    return None

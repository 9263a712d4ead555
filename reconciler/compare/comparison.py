"""Compare one database: spec fields against the live read, field by field.

Three steps, all pure functions:

1. :func:`~reconciler.compare.live.live_to_request` puts the live read in request form.
2. :func:`normalise_desired` (and :func:`~reconciler.compare.fields.canonical` for the live
   side) puts each field into its canonical form and drops the fields never compared.
3. :func:`comparable` applies each field's pair rule, which may need both sides or the
   database's :class:`~reconciler.compare.pairs.CompareContext`.

:func:`compare_database` runs them and the differ in one call and returns a
:class:`Comparison`. Secrets (passwords, URIs with credentials) are
:class:`~reconciler.secrets.Secret` on both sides, so a comparison never needs them in
clear outside ``Secret.__eq__``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.compare.differ import diff_fields, is_ignored
from reconciler.compare.fields import FIELDS, NOT_COMPARED_FIELDS, SECRET_FIELDS, canonical
from reconciler.compare.forms import CERTIFICATES_SET, plain, presence, protect_deep, secret
from reconciler.compare.live import RequestForms, live_to_request
from reconciler.compare.pairs import MISSING, CompareContext, Pair, pair_as_read
from reconciler.plan import FieldChange

log = logging.getLogger(__name__)

#: Why a field was not compared: the catalogue says no ``GET`` returns it.
NOT_RETURNED = "not returned by the API"
#: Why a field was not compared: this database's read left it out.
ABSENT = "the API did not return it for this database"
#: Why certificates set on both sides cannot be compared further.
CONTENTS_UNKNOWN = "the API returns only whether certificates are set, not which"


@dataclass(frozen=True)
class Uncompared:
    """A spec field that could not be compared with the live database, and why."""

    field: str
    reason: str

    @property
    def message(self) -> str:
        """``cannot compare saslPassword: not returned by the API``."""
        return f"cannot compare {self.field}: {self.reason}"


@dataclass(frozen=True)
class Comparison:
    """One database compared.

    ``live`` is the live read in request form (:func:`live_to_request`); ``desired`` and
    ``have`` hold the canonical desired and live values of the fields compared (same keys);
    ``changes`` the differences, in spec order, without the ignored paths; ``uncompared``
    the spec fields the read did not let compare, in spec order, without the ignored ones.
    """

    live: Mapping[str, Any]
    desired: Mapping[str, Any]
    have: Mapping[str, Any]
    changes: tuple[FieldChange, ...]
    uncompared: tuple[Uncompared, ...] = ()


def compare_database(
    spec_fields: Mapping[str, Any],
    live_raw: Mapping[str, Any],
    subscription_raw: Mapping[str, Any],
    ignore: Collection[str] = (),
    *,
    forms: RequestForms | None = None,
) -> Comparison:
    """Return the comparison of a database's spec fields with its live read.

    ``live_raw`` and ``subscription_raw`` are the objects as the API returned them;
    ``ignore`` holds field paths left out of the changes (``lifecycle.ignoreChanges``);
    ``forms``, when given, supplies (and remembers) the live request form.
    Never raises on a strange payload: odd values simply compare unequal.
    """
    if forms is None:
        live = live_to_request(live_raw, subscription_raw)
    else:
        live = forms.of(live_raw, subscription_raw)
    context = CompareContext.for_database(spec_fields, live, subscription_raw)
    desired, have, uncompared = _field_pairs(spec_fields, live, context)
    ignored = frozenset(ignore)
    unknown = tuple(u for u in uncompared if not is_ignored(u.field, ignored))
    return Comparison(live, desired, have, diff_fields(desired, have, ignore=ignore), unknown)


def normalise_desired(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the canonical comparable form of desired request fields.

    Fields never compared (the identity: ``name``, ``databaseId``; excluded ones) are dropped; every
    other field is canonicalised as :func:`~reconciler.compare.fields.canonical` describes.
    """
    return {k: canonical(k, v) for k, v in fields.items() if k not in NOT_COMPARED_FIELDS}


def comparable(field: str, desired: Any, live: Any, *, context: CompareContext) -> Pair | None:
    """Return the (desired, live) pair to compare for ``field``, or None to skip it.

    Both values are canonical; ``live`` is :data:`~reconciler.compare.pairs.MISSING` when
    the API did not return the field. None means "not comparable": the field is never
    compared, unknown live, or bundled (modules on Redis ≥ 8). When the two are equivalent
    the pair holds the desired form twice.
    """
    row = FIELDS.get(field)
    if row is None:
        return pair_as_read(desired, live, context)
    return row.pair(desired, live, context) if row.compared else None


def comparable_fields(
    desired_fields: Mapping[str, Any],
    live_request: Mapping[str, Any],
    context: CompareContext,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (desired, live) canonical mappings holding only the fields to compare.

    ``desired_fields`` are the spec's request fields, ``live_request`` the output of
    :func:`live_to_request`. Keys of the two results are the same.
    """
    desired_out, live_out, _ = _field_pairs(desired_fields, live_request, context)
    return desired_out, live_out


def uncompared_fields(
    desired_fields: Mapping[str, Any],
    live_request: Mapping[str, Any],
    context: CompareContext,
) -> tuple[Uncompared, ...]:
    """Return the spec fields that could not be compared, in spec order.

    A field no ``GET`` returns (the catalogue's read-back is None) is never comparable; a
    field this read left out (or gave as null) is not comparable when its pair rule has
    nothing to compare it with; certificates set on both sides are not comparable further
    (the API tells only that some are set). Fields never compared (the identity, excluded
    ones) are not listed.
    """
    return _field_pairs(desired_fields, live_request, context)[2]


def _field_pairs(
    desired_fields: Mapping[str, Any],
    live_request: Mapping[str, Any],
    context: CompareContext,
) -> tuple[dict[str, Any], dict[str, Any], tuple[Uncompared, ...]]:
    """One pass over the spec fields: the pairs to compare and the fields that cannot be
    (see :func:`comparable_fields` and :func:`uncompared_fields`)."""
    desired_out: dict[str, Any] = {}
    live_out: dict[str, Any] = {}
    found: list[Uncompared] = []
    for field, want in normalise_desired(desired_fields).items():
        # canonical() and comparable() inlined: one catalogue lookup per field, not three.
        row = FIELDS.get(field)
        if row is None:
            have = plain(live_request[field]) if field in live_request else MISSING
            pair = pair_as_read(want, have, context)
        else:
            have = row.canonical(live_request[field]) if field in live_request else MISSING
            pair = row.pair(want, have, context) if row.compared else None
        if pair is not None:
            desired_out[field], live_out[field] = pair
        if row is not None and row.read_back is None:
            found.append(Uncompared(field, NOT_RETURNED))
        elif _unknown(have) and pair is None:
            found.append(Uncompared(field, ABSENT))
        elif row is not None and row.canonical is presence and want == have == CERTIFICATES_SET:
            found.append(Uncompared(field, CONTENTS_UNKNOWN))
    return desired_out, live_out, tuple(found)


def _unknown(value: Any) -> bool:
    return value is MISSING or value is None


def request_value(field: str, value: Any) -> Any:
    """Return a desired field value as it goes into a request body: secrets wrapped.

    Passwords become :class:`~reconciler.secrets.Secret`; strings with credentials anywhere
    inside (replicaOf URIs, sync source endpoints, storage paths) become Secret too.
    """
    if field in SECRET_FIELDS:
        return secret(value)
    return protect_deep(value)

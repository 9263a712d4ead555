"""``reconciler export``: the live databases of an account written as a spec.

- :mod:`~reconciler.export.exporter` — :func:`export_account`.
"""

from reconciler.export.exporter import export_account

__all__ = ["export_account"]

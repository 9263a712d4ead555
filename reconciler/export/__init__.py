"""``reconciler export``: the live databases of an account written as a spec.

- :mod:`~reconciler.export.exporter` — :func:`export_account`, over
  :mod:`~reconciler.export.reading`, :mod:`~reconciler.export.fields`,
  :mod:`~reconciler.export.document` and :mod:`~reconciler.export.files`.
"""

from reconciler.export.exporter import export_account

__all__ = ["export_account"]

"""Comparing live and desired databases: request-shaped, canonical values and their diff.

- :mod:`~reconciler.compare.normalise` — live API objects and spec fields in one form.
- :mod:`~reconciler.compare.differ` — field-level changes between two such forms.
"""

"""Renderers of a :class:`~reconciler.plan.Plan`, kept apart from the plan itself.

Plain functions over the inert plan: :func:`render_text` (the default, Terraform-like),
:func:`render_json` / :func:`plan_to_dict` (versioned, for tooling), :func:`render_markdown`
(pull-request comments), and the saved plan file (:func:`plan_file_document`,
:func:`write_plan_file`, :func:`read_plan_file`, :func:`stale_reasons`). None of them
prints; the CLI writes what they return. None of them can show a secret: values pass through
the masking in ``_common`` / ``json_format``.
"""

from reconciler.render.json_format import FORMAT_VERSION, plan_to_dict, render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.planfile import (
    SavedPlan,
    plan_file_document,
    read_plan_file,
    write_plan_file,
)
from reconciler.render.stale import stale_reasons
from reconciler.render.text import color_enabled, render_text

__all__ = [
    "FORMAT_VERSION",
    "SavedPlan",
    "color_enabled",
    "plan_file_document",
    "plan_to_dict",
    "read_plan_file",
    "render_json",
    "render_markdown",
    "render_text",
    "stale_reasons",
    "write_plan_file",
]

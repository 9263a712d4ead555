"""GitLab API helper of the reconciler GitOps kit (standard library only).

Three commands, run from .gitlab-ci.yml with GitLab's predefined CI variables:

``note PLAN_MD ERRORS_TXT EXIT_CODE``
    Post the plan as ONE merge-request note: the note starting with the hidden marker is
    updated in place, or created when there is none. Uses ``CI_MERGE_REQUEST_IID``.

``fetch-plan OUT``
    Download the plan.json that the ``reconciler-plan`` job saved for the merge request this
    commit (``CI_COMMIT_SHA``) came from. Exits 1 when there is none.

``drift-issue DRIFT_MD``
    Put the drift plan (with its History: who changed each drifted database) in ONE open
    issue: a comment on the open issue titled :data:`DRIFT_TITLE`, or a new issue.

All need ``RECONCILER_GITLAB_TOKEN``: a project access token with the ``api`` scope (role
Reporter or higher), kept as a masked CI/CD variable. ``CI_JOB_TOKEN`` cannot write notes.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

MARKER = "<!-- reconciler-plan -->"
PLAN_JOB = "reconciler-plan"
PLAN_FILE = "plan.json"
ERRORS_MAX = 20_000
DRIFT_TITLE = "reconciler: the live account has drifted from the specs"
BODY_MAX = 1_000_000  # GitLab's limit on a note or issue description, in characters


class Api:
    """Just enough of the GitLab REST API v4, authenticated with a project token."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.base = environ["CI_API_V4_URL"].rstrip("/")
        self.project = urllib.parse.quote(environ["CI_PROJECT_ID"], safe="")
        self.token = environ["RECONCILER_GITLAB_TOKEN"]

    def call(
        self, method: str, path: str, body: Any = None, *, parse: bool = True
    ) -> tuple[Any, dict[str, str]]:
        """Return (parsed JSON, or the bytes when ``parse`` is false, headers) of one request.

        Raises urllib.error.HTTPError for an answer that is not 2xx.
        """
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/projects/{self.project}{path}", data=data, method=method
        )
        request.add_header("PRIVATE-TOKEN", self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            raw = answer.read()
            headers = {k.lower(): v for k, v in answer.headers.items()}
        return (json.loads(raw) if parse else raw), headers


def note_body(plan_md: str, errors: str, exit_code: str, environ: dict[str, str]) -> str:
    """Return the merge-request note: marker, plan, errors when refused, a footer."""
    parts = [MARKER, plan_md.rstrip()]
    if exit_code not in ("0", "2"):
        parts += [
            "**The plan was refused or failed: nothing will be applied.**",
            "```text\n" + errors[:ERRORS_MAX].rstrip() + "\n```",
        ]
    commit = environ.get("CI_COMMIT_SHORT_SHA", "")
    pipeline = environ.get("CI_PIPELINE_URL", "")
    parts.append(
        f"<sub>Plan of {commit} ([pipeline]({pipeline})). Merging applies exactly this plan; "
        "it is refused as stale if the account or the specs change first.</sub>"
    )
    return "\n\n".join(p for p in parts if p) + "\n"


def upsert_note(api: Api, iid: str, body: str) -> str:
    """Update the marked note of merge request ``iid`` or create it; return what was done."""
    page = "1"
    while page:
        notes, headers = api.call("GET", f"/merge_requests/{iid}/notes?per_page=100&page={page}")
        for note in notes:
            if str(note.get("body", "")).startswith(MARKER):
                api.call("PUT", f"/merge_requests/{iid}/notes/{note['id']}", {"body": body})
                return f"updated note {note['id']}"
        page = headers.get("x-next-page", "")
    created, _ = api.call("POST", f"/merge_requests/{iid}/notes", {"body": body})
    return f"created note {created.get('id')}"


def drift_issue(api: Api, body: str, pipeline: str) -> str:
    """Comment ``body`` on the open drift issue, or open one; return what was done."""
    text = body[:BODY_MAX].rstrip() + (f"\n\n<sub>[pipeline]({pipeline})</sub>" if pipeline else "")
    search = urllib.parse.quote(DRIFT_TITLE)
    found, _ = api.call("GET", f"/issues?state=opened&in=title&search={search}&per_page=100")
    issue = next((i for i in found if i.get("title") == DRIFT_TITLE), None)
    if issue is not None:
        api.call("POST", f"/issues/{issue['iid']}/notes", {"body": text})
        return f"commented on issue #{issue['iid']}"
    created, _ = api.call("POST", "/issues", {"title": DRIFT_TITLE, "description": text})
    return f"opened issue #{created.get('iid')}"


def fetch_plan(api: Api, sha: str, out: str) -> str:
    """Write the reviewed plan of the merge request ``sha`` came from to ``out``.

    Raises SystemExit (1) when no merge request or no successful plan job is found.
    """
    requests, _ = api.call("GET", f"/repository/commits/{sha}/merge_requests")
    merged = [mr for mr in requests if mr.get("state") == "merged"] or requests
    if not merged:
        raise SystemExit(f"{sha} came from no merge request: there is no reviewed plan")
    iid = merged[0]["iid"]
    for kind in ("head", "merge"):  # merge-request pipelines, or merged-results pipelines
        ref = urllib.parse.quote(f"refs/merge-requests/{iid}/{kind}", safe="")
        try:
            path = f"/jobs/artifacts/{ref}/raw/{PLAN_FILE}?job={PLAN_JOB}"
            content, _ = api.call("GET", path, parse=False)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                continue
            raise
        with open(out, "wb") as handle:
            handle.write(content)
        return f"reviewed plan of merge request !{iid} written to {out}"
    raise SystemExit(f"no successful {PLAN_JOB} job with {PLAN_FILE} for merge request !{iid}")


def main(argv: list[str]) -> int:
    """Run one command; return the exit code (1 for a GitLab API error)."""
    try:
        return _run(argv, dict(os.environ))
    except urllib.error.HTTPError as exc:
        print(f"error: GitLab answered {exc.code} {exc.reason} to {exc.url}", file=sys.stderr)
        return 1


def _run(argv: list[str], environ: dict[str, str]) -> int:
    api = Api(environ)
    if argv[:1] == ["note"] and len(argv) == 4:
        with open(argv[1], encoding="utf-8") as plan, open(argv[2], encoding="utf-8") as errors:
            body = note_body(plan.read(), errors.read(), argv[3], environ)
        print(upsert_note(api, environ["CI_MERGE_REQUEST_IID"], body))
        return 0
    if argv[:1] == ["fetch-plan"] and len(argv) == 2:
        print(fetch_plan(api, environ["CI_COMMIT_SHA"], argv[1]))
        return 0
    if argv[:1] == ["drift-issue"] and len(argv) == 2:
        with open(argv[1], encoding="utf-8") as drift:
            print(drift_issue(api, drift.read(), environ.get("CI_PIPELINE_URL", "")))
        return 0
    print(__doc__, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

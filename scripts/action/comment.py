#!/usr/bin/env python3
"""Post the plan as one comment per pull (merge) request, updated in place.

Standard library only: it runs in the trusted follow-up job of the GitHub Action
(before or without installing n8n-reconciler) and in GitLab CI. The comment is found
again by its first line, the marker. On GitHub the pull request's head commit must be
the one the plan was made for, so an artifact from another run cannot be posted.

GitHub:  GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, --pr N [--head-sha SHA]
GitLab:  RECONCILER_GITLAB_TOKEN, CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from typing import Any

MARKER = "<!-- n8n-reconciler plan -->"
LIMIT = 65_000  # GitHub refuses comments above 65,536 characters


def _call(method: str, url: str, headers: dict[str, str], body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Accept": "application/json", "Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    return json.loads(text) if text else None


def body_of(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if not text.startswith(MARKER):
        text = f"{MARKER}\n{text}"
    if len(text) > LIMIT:
        text = text[: LIMIT - 80].rsplit("\n", 1)[0] + "\n\n_Comment cut at 65,000 characters._\n"
    return text


def github(body: str, pr: str, head_sha: str | None) -> str:
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    repo = os.environ["GITHUB_REPOSITORY"]
    auth = {"Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}",
            "X-GitHub-Api-Version": "2022-11-28"}
    if head_sha:
        pull = _call("GET", f"{api}/repos/{repo}/pulls/{pr}", auth)
        if pull["head"]["sha"] != head_sha:
            raise SystemExit(f"pull request #{pr} is at {pull['head']['sha']}, not {head_sha}: "
                             "not posting a plan made for another commit")
    page = 1
    while True:
        found = _call("GET", f"{api}/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}",
                      auth)
        for comment in found:
            if str(comment.get("body") or "").startswith(MARKER):
                _call("PATCH", f"{api}/repos/{repo}/issues/comments/{comment['id']}", auth,
                      {"body": body})
                return f"updated comment {comment['id']}"
        if len(found) < 100:
            break
        page += 1
    made = _call("POST", f"{api}/repos/{repo}/issues/{pr}/comments", auth, {"body": body})
    return f"created comment {made['id']}"


def gitlab(body: str) -> str:
    api = os.environ["CI_API_V4_URL"].rstrip("/")
    project, mr = os.environ["CI_PROJECT_ID"], os.environ["CI_MERGE_REQUEST_IID"]
    auth = {"PRIVATE-TOKEN": os.environ["RECONCILER_GITLAB_TOKEN"]}
    notes = f"{api}/projects/{project}/merge_requests/{mr}/notes"
    page = 1
    while True:
        found = _call("GET", f"{notes}?per_page=100&page={page}", auth)
        for note in found:
            if str(note.get("body") or "").startswith(MARKER):
                _call("PUT", f"{notes}/{note['id']}", auth, {"body": body})
                return f"updated note {note['id']}"
        if len(found) < 100:
            break
        page += 1
    made = _call("POST", notes, auth, {"body": body})
    return f"created note {made['id']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("file", help="the comment's markdown (check.sh writes comment.md)")
    parser.add_argument("--gitlab", action="store_true", help="a merge-request note")
    parser.add_argument("--pr", help="GitHub pull request number")
    parser.add_argument("--head-sha", help="GitHub: the commit the plan was made for")
    args = parser.parse_args(argv)
    body = body_of(args.file)
    try:
        if args.gitlab:
            print(gitlab(body))
            return 0
        if not args.pr or not re.fullmatch(r"[1-9][0-9]{0,9}", args.pr):
            parser.error(f"--pr takes a pull request number, not {args.pr!r}")
        print(github(body, args.pr, args.head_sha))
    except urllib.error.HTTPError as exc:
        print(f"comment: {exc.code} {exc.reason} from {exc.url}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

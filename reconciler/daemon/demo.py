"""The demo's inputs: a git repository made from example-repo/ and a fake secrets folder.

`python -m reconciler.daemon.demo REPO_DIR SECRETS_DIR` is idempotent: a second run
commits only if example-repo/ changed and adds only missing tags.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pygit2

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"
AUTHOR = pygit2.Signature("reconciler demo", "demo@example.invalid")

# Obviously fake values; erin's gmail is left out on purpose so the demo shows an
# instance in `missing_integration`.
DEMO_SECRETS: dict[str, dict[str, str]] = {
    "system.platform.anthropic": {"apiKey": "sk-demo-not-a-real-key"},
    "org.acme.anthropic": {"apiKey": "sk-demo-acme-not-a-real-key"},
    "org.acme.slack": {"accessToken": "xoxb-demo-acme-not-a-real-token"},
    "org.globex.slack": {"accessToken": "xoxb-demo-globex-not-a-real-token"},
    "user.alice.gmail": {"clientId": "demo-alice", "clientSecret": "demo-not-a-secret"},
    "user.bob.gmail": {"clientId": "demo-bob", "clientSecret": "demo-not-a-secret"},
    "user.carol.gmail": {"clientId": "demo-carol", "clientSecret": "demo-not-a-secret"},
}


def commit_folder(repo_dir: Path, source: Path, message: str,
                  branch: str = "main") -> str | None:
    """Make `repo_dir`'s tree equal `source` and commit it; None when nothing changed."""
    if (repo_dir / ".git").exists():
        repo = pygit2.Repository(str(repo_dir))
    else:
        repo = pygit2.init_repository(str(repo_dir), initial_head=branch)
    for item in repo_dir.iterdir():
        if item.name != ".git":
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    shutil.copytree(source, repo_dir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".git", "__pycache__"))
    return commit_all(repo, message)


def commit_all(repo: pygit2.Repository, message: str) -> str | None:
    """Commit the whole working tree (additions, changes and deletions)."""
    index = repo.index
    index.clear()  # rebuilt from the working tree, so deleted files drop out
    index.add_all()
    index.write()
    tree = index.write_tree()
    parents = [] if repo.head_is_unborn else [repo.head.target]
    if parents and repo[parents[0]].peel(pygit2.Commit).tree_id == tree:
        return None
    oid = repo.create_commit("HEAD", AUTHOR, AUTHOR, message, tree, parents)
    return str(oid)


def tag_versions(repo_dir: Path) -> list[str]:
    """Tag HEAD `<use-case>@<version>` for every use case whose tag is missing."""
    repo = pygit2.Repository(str(repo_dir))
    head = repo.head.target
    made: list[str] = []
    for version_file in sorted((repo_dir / "use-cases").glob("*/version.json")):
        version = json.loads(version_file.read_text(encoding="utf-8"))["version"]
        name = f"{version_file.parent.name}@{version}"
        if f"refs/tags/{name}" not in repo.references:
            repo.references.create(f"refs/tags/{name}", head)
            made.append(name)
    return made


def write_secrets(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for name, data in DEMO_SECRETS.items():
        path = folder / name
        path.write_text(json.dumps(data) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return len(DEMO_SECRETS)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m reconciler.daemon.demo REPO_DIR SECRETS_DIR", file=sys.stderr)
        return 2
    repo_dir, secrets_dir = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    repo_dir.mkdir(parents=True, exist_ok=True)
    commit = commit_folder(repo_dir, EXAMPLE, "example-repo")
    tags = tag_versions(repo_dir)
    count = write_secrets(secrets_dir)
    print(f"repository {repo_dir}: "
          + (f"committed {commit[:12]}" if commit else "unchanged")
          + (f", tagged {', '.join(tags)}" if tags else ", tags present"), file=sys.stderr)
    print(f"secrets {secrets_dir}: {count} fake secrets (erin's gmail left out)",
          file=sys.stderr)
    print(f"file://{repo_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

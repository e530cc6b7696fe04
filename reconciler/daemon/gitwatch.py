"""Watch a remote: keep a bare mirror next to the state file and report where refs point.

Credentials: https uses a token read from an environment variable (its name is in
the config, its value never leaves this module); ssh uses a key file or the agent.
A local path (not a URL) is read in place and never fetched.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2

from reconciler.adapters import git
from reconciler.errors import GitError

_HEADS = "+refs/heads/*:refs/heads/*"
_TAGS = "+refs/tags/*:refs/tags/*"
_MAX_AUTH_ATTEMPTS = 3


@dataclass(frozen=True)
class Seen:
    """Where the tracked branch and every tag point after one fetch."""

    branch: str  # commit id
    tags: dict[str, str] = field(default_factory=dict)  # tag -> commit id


class _Callbacks(pygit2.RemoteCallbacks):
    def __init__(self, token: str | None, username: str, ssh_key: str) -> None:
        super().__init__()
        self._token = token
        self._username = username
        self._ssh_key = ssh_key
        self._attempts = 0

    def credentials(self, url: str, username_from_url: str | None,
                    allowed_types: int) -> Any:
        # libgit2 asks again after a refused credential; stop instead of looping.
        self._attempts += 1
        if self._attempts > _MAX_AUTH_ATTEMPTS:
            raise GitError("authentication refused by the remote")
        kinds = pygit2.enums.CredentialType
        if allowed_types & kinds.SSH_KEY:
            user = username_from_url or "git"
            if self._ssh_key:
                return pygit2.Keypair(user, f"{self._ssh_key}.pub", self._ssh_key, "")
            return pygit2.KeypairFromAgent(user)
        if allowed_types & kinds.USERPASS_PLAINTEXT and self._token:
            return pygit2.UserPass(self._username, self._token)
        raise GitError("the remote wants credentials: set the token variable "
                       "(https) or an ssh key")


class GitWatcher:
    def __init__(self, location: str, branch: str, mirrors: Path, *,
                 token_env: str = "RECONCILER_GIT_TOKEN", username: str = "x-access-token",
                 ssh_key: str = "") -> None:
        self.location = location
        self.branch = branch
        self._mirror = mirrors / hashlib.sha256(location.encode()).hexdigest()[:16]
        self._token_env = token_env
        self._username = username
        self._ssh_key = ssh_key
        self._repo: pygit2.Repository | None = None

    @property
    def label(self) -> str:
        return git._safe(self.location)

    def _callbacks(self) -> _Callbacks:
        token = os.environ.get(self._token_env) or None
        return _Callbacks(token, self._username, self._ssh_key)

    def repository(self) -> pygit2.Repository:
        if self._repo is None:
            self._repo = self._open()
        return self._repo

    def _open(self) -> pygit2.Repository:
        if not git.is_url(self.location):
            return git.open_repository(self.location, fetch=False)
        try:
            if self._mirror.exists():
                return pygit2.Repository(str(self._mirror))
            self._mirror.parent.mkdir(parents=True, exist_ok=True)
            return pygit2.clone_repository(self.location, str(self._mirror), bare=True,
                                           callbacks=self._callbacks())
        except pygit2.GitError as exc:
            raise GitError(f"{self.label}: {_clean(exc, self.location)}") from None

    def poll(self) -> Seen:
        """Fetch (URLs only) and read the branch and tags."""
        repo = self.repository()
        if git.is_url(self.location):
            try:
                repo.remotes["origin"].fetch([_HEADS, _TAGS], callbacks=self._callbacks(),
                                             prune=pygit2.enums.FetchPrune.PRUNE)
            except (pygit2.GitError, KeyError) as exc:
                raise GitError(f"fetch {self.label}: {_clean(exc, self.location)}") from None
        branch = repo.references.get(f"refs/heads/{self.branch}")
        if branch is None:
            raise GitError(f"{self.label}: no branch {self.branch!r}")
        commit = branch.peel(pygit2.Commit)
        return Seen(str(commit.id), git.tags(repo))


def _clean(exc: Exception, location: str) -> str:
    # libgit2 messages can quote the URL; a URL may carry user:password
    text = str(exc)
    return text.replace(location, git._safe(location))

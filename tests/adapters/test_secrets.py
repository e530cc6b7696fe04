"""Secret sources (environment, folder, chain), digests and the hash key."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest

from reconciler.adapters.secrets import (
    DIR_ENV,
    MAX_SECRET_BYTES,
    ChainSecretSource,
    DirSecretSource,
    EnvSecretSource,
    SecretKey,
    SecretSource,
    SecretUnreadable,
    hash_key_from,
    secret_digest,
    secret_sources_from_env,
)
from reconciler.errors import PermanentError, SecretMissing

GMAIL = SecretKey("user", "alice", "gmail")
SECRET = "s3cr3t-value-never-shown"


# --- keys ---------------------------------------------------------------------------


def test_key_text_and_validation() -> None:
    assert str(SecretKey("org", "acme", "N8N_BASE_URL")) == "org.acme.N8N_BASE_URL"
    with pytest.raises(ValueError, match="owner_kind"):
        SecretKey("team", "x", "y")  # type: ignore[arg-type]
    for bad in ("../etc", "a/b", "a.b", "", ".hidden", "a b"):
        with pytest.raises(ValueError):
            SecretKey("user", bad, "gmail")
        with pytest.raises(ValueError):
            SecretKey("user", "alice", bad)


# --- environment ---------------------------------------------------------------------


def test_env_json_object_and_plain_string() -> None:
    env = {
        "RECONCILER_SECRET__USER__ALICE__GMAIL": '{"clientId": "c", "clientSecret": "s"}',
        "RECONCILER_SECRET__MEMBER__BOB_SMITH__EXECUTION_AUTH": SECRET,
        "RECONCILER_SECRET__ORG__ACME__N8N_BASE_URL": '"quoted"',
        "UNRELATED": "x",
    }
    source = EnvSecretSource(env)
    assert source.get(GMAIL) == {"clientId": "c", "clientSecret": "s"}
    # `-` in owner ids and names is written `_`, everything upper-cased.
    assert source.get(SecretKey("member", "bob-smith", "EXECUTION_AUTH")) == {"value": SECRET}
    # JSON that is not an object stays text, exactly as given.
    assert source.get(SecretKey("org", "acme", "N8N_BASE_URL")) == {"value": '"quoted"'}
    assert source.get(SecretKey("user", "carol", "gmail")) is None
    assert EnvSecretSource.variable(GMAIL) == "RECONCILER_SECRET__USER__ALICE__GMAIL"
    assert SECRET not in source.describe()


def test_env_broken_json_object_is_kept_as_text() -> None:
    source = EnvSecretSource({"RECONCILER_SECRET__USER__ALICE__GMAIL": "{not json"})
    assert source.get(GMAIL) == {"value": "{not json"}


# --- folder --------------------------------------------------------------------------


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_dir_json_and_text_with_trailing_newline(tmp_path: Path) -> None:
    _write(tmp_path, "user.alice.gmail", '{"clientId": "c"}\n')
    _write(tmp_path, "member.bob.EXECUTION_AUTH", SECRET + "\n")
    _write(tmp_path, "org.acme.N8N_BASE_URL", "line1\nline2\n\n")
    _write(tmp_path, "org.acme.CRLF", "v\r\n")
    source = DirSecretSource(tmp_path)
    assert source.get(GMAIL) == {"clientId": "c"}
    assert source.get(SecretKey("member", "bob", "EXECUTION_AUTH")) == {"value": SECRET}
    # Only the one final newline is the editor's; the rest is the secret's.
    assert source.get(SecretKey("org", "acme", "N8N_BASE_URL")) == {"value": "line1\nline2\n"}
    assert source.get(SecretKey("org", "acme", "CRLF")) == {"value": "v"}
    assert source.get(SecretKey("user", "carol", "gmail")) is None


def test_dir_names_are_case_sensitive(tmp_path: Path) -> None:
    _write(tmp_path, "user.alice.gmail", "x")
    assert DirSecretSource(tmp_path).get(SecretKey("user", "alice", "GMAIL")) is None


def test_dir_oversized_file_is_refused_without_its_content(tmp_path: Path) -> None:
    path = _write(tmp_path, "user.alice.gmail", SECRET * (MAX_SECRET_BYTES // len(SECRET) + 1))
    with pytest.raises(SecretUnreadable) as info:
        DirSecretSource(tmp_path).get(GMAIL)
    assert str(path) in str(info.value)
    assert SECRET not in str(info.value)
    assert isinstance(info.value, SecretMissing)


def test_dir_exactly_max_size_is_fine(tmp_path: Path) -> None:
    _write(tmp_path, "user.alice.gmail", "a" * MAX_SECRET_BYTES)
    data = DirSecretSource(tmp_path).get(GMAIL)
    assert data is not None and len(data["value"]) == MAX_SECRET_BYTES


def test_dir_symlink_escaping_the_folder_is_refused(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    outside = _write(tmp_path, "outside", SECRET)
    (secrets_dir / "user.alice.gmail").symlink_to(outside)
    (secrets_dir / "user.bob.gmail").symlink_to("../outside")
    source = DirSecretSource(secrets_dir)
    for key in (GMAIL, SecretKey("user", "bob", "gmail")):
        with pytest.raises(SecretUnreadable, match="outside") as info:
            source.get(key)
        assert SECRET not in str(info.value)


def test_dir_kubernetes_style_symlinks_inside_the_folder_are_fine(tmp_path: Path) -> None:
    data_dir = tmp_path / "..2024_01_01"
    data_dir.mkdir()
    _write(data_dir, "user.alice.gmail", '{"token": "t"}')
    (tmp_path / "..data").symlink_to(data_dir.name)
    (tmp_path / "user.alice.gmail").symlink_to("..data/user.alice.gmail")
    assert DirSecretSource(tmp_path).get(GMAIL) == {"token": "t"}


def test_dir_dangling_symlink_directory_and_non_utf8(tmp_path: Path) -> None:
    (tmp_path / "user.alice.gmail").symlink_to(tmp_path / "gone")
    (tmp_path / "user.bob.gmail").mkdir()
    _write(tmp_path, "user.carol.gmail", b"\xff\xfe" + SECRET.encode())
    source = DirSecretSource(tmp_path)
    with pytest.raises(SecretUnreadable, match="resolved"):
        source.get(GMAIL)
    with pytest.raises(SecretUnreadable, match="regular file"):
        source.get(SecretKey("user", "bob", "gmail"))
    with pytest.raises(SecretUnreadable, match="UTF-8") as info:
        source.get(SecretKey("user", "carol", "gmail"))
    assert SECRET not in str(info.value)


def test_dir_missing_folder_is_an_error_not_an_absence(tmp_path: Path) -> None:
    with pytest.raises(SecretUnreadable, match="not a folder"):
        DirSecretSource(tmp_path / "nope").get(GMAIL)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_dir_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "user.alice.gmail", SECRET)
    path.chmod(0)
    with pytest.raises(SecretUnreadable, match="cannot be read"):
        DirSecretSource(tmp_path).get(GMAIL)


# --- chain and configuration -------------------------------------------------------


class _Fixed:
    def __init__(self, name: str, data: dict[str, str] | None) -> None:
        self.name, self.data, self.asked = name, data, 0

    def get(self, key: SecretKey) -> dict[str, str] | None:
        self.asked += 1
        return self.data

    def describe(self) -> str:
        return self.name


def test_chain_first_hit_wins() -> None:
    first, second, third = _Fixed("a", None), _Fixed("b", {"value": "b"}), _Fixed("c", {})
    sources: list[SecretSource] = [first, second, third]
    chain = ChainSecretSource(sources)
    assert chain.get(GMAIL) == {"value": "b"}
    assert (first.asked, second.asked, third.asked) == (1, 1, 0)
    assert chain.describe() == "a; b; c"


def test_chain_require_names_the_key_and_the_sources_only() -> None:
    chain = ChainSecretSource([EnvSecretSource({"RECONCILER_SECRET__USER__BOB__GMAIL": SECRET})])
    with pytest.raises(SecretMissing) as info:
        chain.require(GMAIL)
    assert "user.alice.gmail" in str(info.value)
    assert "environment variables" in str(info.value)
    assert SECRET not in str(info.value)
    assert ChainSecretSource([]).get(GMAIL) is None
    assert ChainSecretSource([]).describe() == "no secret source"


def test_sources_from_env(tmp_path: Path) -> None:
    _write(tmp_path, "user.alice.gmail", "from-dir")
    _write(tmp_path, "user.bob.gmail", "bob-from-dir")
    env = {DIR_ENV: str(tmp_path), "RECONCILER_SECRET__USER__ALICE__GMAIL": "from-env"}
    chain = secret_sources_from_env(env)
    # The environment overrides the folder.
    assert chain.get(GMAIL) == {"value": "from-env"}
    assert chain.get(SecretKey("user", "bob", "gmail")) == {"value": "bob-from-dir"}
    assert str(tmp_path) in chain.describe()
    only_env = secret_sources_from_env({})
    assert len(only_env.sources) == 1 and only_env.get(GMAIL) is None


# --- digest and hash key -----------------------------------------------------------


def test_digest_is_stable_keyed_and_hides_the_secret() -> None:
    key = b"k" * 32
    one = secret_digest({"a": 1, "b": SECRET}, key)
    assert one == secret_digest({"b": SECRET, "a": 1}, key)  # key order does not matter
    assert len(one) == 64 and int(one, 16) >= 0
    assert SECRET not in one
    assert one != secret_digest({"a": 1, "b": SECRET}, b"other-key-other-key-other-key!!!")
    assert one != secret_digest({"a": 1, "b": SECRET + "x"}, key)
    assert one != secret_digest({"a": "1", "b": SECRET}, key)
    # Pinned to the documented form (HMAC-SHA256 of sorted, compact JSON): a silent
    # change would make every stored secret look rotated.
    canonical = b'{"a":[1,"\xc3\xa9"],"value":"x"}'
    assert secret_digest({"value": "x", "a": [1, "é"]}, b"key") == \
        hmac.new(b"key", canonical, hashlib.sha256).hexdigest()
    with pytest.raises(ValueError):
        secret_digest({"value": "x"}, b"")


def test_hash_key_from_env(tmp_path: Path) -> None:
    assert hash_key_from(tmp_path, {"RECONCILER_HASH_KEY": "configured"}) == b"configured"
    assert not (tmp_path / "hash.key").exists()


def test_hash_key_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = hash_key_from(state, {})
    path = state / "hash.key"
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert hash_key_from(state, {}) == first
    assert [p.name for p in state.iterdir()] == ["hash.key"]  # no temporary left behind
    assert hash_key_from(tmp_path / "other", {}) != first


def test_hash_key_file_too_short(tmp_path: Path) -> None:
    (tmp_path / "hash.key").write_bytes(b"short")
    with pytest.raises(PermanentError, match="too short"):
        hash_key_from(tmp_path, {})

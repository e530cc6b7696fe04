"""`reconciler import codika`: a Codika use-case folder into this repository format.

`config.ts` is evaluated in Node (evaluate.py); its configuration is mapped to
`use-case.yaml` (mapping.py); workflows are rewritten where Codika's forms have no
counterpart here (nodes.py). Output is canonical (sorted where order carries no
meaning, 2-space JSON), so importing the same folder twice writes the same bytes
and a new version of it gives a reviewable diff.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.adapters.codika_cli import CodikaInstall
from reconciler.adapters.git import MAX_FILE_BYTES
from reconciler.importers.codika.evaluate import CodikaImportError, evaluate_config
from reconciler.importers.codika.mapping import Notes, slug, use_case
from reconciler.importers.codika.nodes import rewrite_workflow
from reconciler.model.placeholders import parse_workflow_text
from reconciler.validate.rules.jsontext import dump_workflow

__all__ = ["CodikaImportError", "ImportResult", "Owner", "import_codika"]

_HEADER = ("# yaml-language-server: $schema=../../../schemas/use-case.schema.json\n"
           "# Imported from a Codika use case by `reconciler import codika`.\n")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# A workflowTemplateId names a file here: no separators, no leading dot.
_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


@dataclass(frozen=True)
class Owner:
    user: str
    org: str


@dataclass
class ImportResult:
    slug: str
    folder: Path
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: Notes = field(default_factory=Notes)


def import_codika(src: Path, repo: Path, owner: Owner, codika: CodikaInstall,
                  slug_name: str | None = None,
                  visibility: str | None = None) -> ImportResult:
    src = src.resolve()
    exported = evaluate_config(src, codika)
    name = slug_name or slug(src.name)
    result = ImportResult(name, repo / "use-cases" / name)
    texts = _workflow_texts(src, exported)
    files = {wf_id: f"workflows/{Path(path).name}" for wf_id, (path, _) in texts.items()}
    config = dict(exported["configuration"])
    ingestion = exported.get("dataIngestion")
    if isinstance(ingestion, dict):
        config["workflows"] = [*(config.get("workflows") or []), _ingestion_workflow(ingestion)]
    if visibility:
        config["visibility"] = visibility
    spec = use_case(config, {"user": owner.user, "org": owner.org}, files, result.notes)
    outputs: dict[str, str] = {
        "use-case.yaml": _HEADER + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True,
                                                  width=100),
        "version.json": json.dumps({"version": _version(src)}) + "\n",
    }
    triggers = {wf["id"]: wf["triggers"] for wf in spec["workflows"]}
    for wf_id, (_, text) in texts.items():
        rel = files[wf_id]
        outputs[rel] = _workflow(text, rel, src / rel, triggers[wf_id], result.notes)
    outputs.update(_skills(src, result.notes))
    _write(result, outputs)
    _platform_stub(repo, owner, result)
    return result


def _workflow_texts(src: Path, exported: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """workflowTemplateId -> (file name, text), matched by the encoded content."""
    by_content: dict[str, Path] = {}
    listed = sorted((src / "workflows").glob("*.json"))
    for folder in ("workflows", "data-ingestion"):
        for path in sorted((src / folder).glob("*.json")):
            by_content.setdefault(read_text(path), path)
    entries = list(exported["configuration"].get("workflows") or [])
    if isinstance(exported.get("dataIngestion"), dict):
        entries.append(exported["dataIngestion"])
    found: dict[str, tuple[str, str]] = {}
    for entry in entries:
        wf_id = str(entry.get("workflowTemplateId") or entry.get("workflowId"))
        if not _TEMPLATE_ID.match(wf_id):
            raise CodikaImportError(f"{src / 'config.ts'}: workflowTemplateId {wf_id!r} is "
                                    "not letters, digits, '-' and '_'")
        encoded = entry.get("n8nWorkflowJsonBase64")
        text = base64.b64decode(encoded).decode("utf-8") if isinstance(encoded, str) else None
        matched = by_content.get(text) if text is not None else None
        path = matched or src / "workflows" / f"{wf_id}.json"
        if matched is None:
            if not path.is_file():
                raise CodikaImportError(f"{src / 'config.ts'}: workflow {wf_id!r}: no file "
                                        "in workflows/ holds its n8nWorkflowJsonBase64")
            text = read_text(path)
        assert text is not None
        found[wf_id] = (path.name, text)
    used = {name for name, _ in found.values()}
    unlisted = [p.name for p in listed if p.name not in used]
    if unlisted:
        raise CodikaImportError(f"{src / 'workflows' / unlisted[0]}: not a workflow of "
                                "config.ts (every file of workflows/ must be listed)")
    return found


def read_text(path: Path) -> str:
    """A file of the use case as text: UTF-8, within the loader's size limit."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CodikaImportError(f"{path}: {path.stat().st_size} bytes; the limit is "
                                    f"{MAX_FILE_BYTES}")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CodikaImportError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise CodikaImportError(f"{path}: cannot read it ({exc.strerror})") from None


def _ingestion_workflow(config: dict[str, Any]) -> dict[str, Any]:
    return {"workflowTemplateId": config.get("workflowTemplateId"),
            "workflowName": config.get("workflowName"), "cost": config.get("cost"),
            "triggers": [{"type": "data_ingestion", "webhooks": config.get("webhooks")}]}


def _version(src: Path) -> str:
    path = src / "version.json"
    try:
        version = json.loads(read_text(path)).get("version")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise CodikaImportError(f"{path}: cannot read the version ({exc})") from None
    if not isinstance(version, str) or not _SEMVER.match(version):
        raise CodikaImportError(f"{path}: version {version!r} is not X.Y.Z")
    return version


def _workflow(text: str, rel: str, source: Path, triggers: list[dict[str, Any]],
              notes: Notes) -> str:
    try:
        content = parse_workflow_text(text)
    except json.JSONDecodeError as exc:
        raise CodikaImportError(f"{source}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    if not isinstance(content, dict):
        raise CodikaImportError(f"{source}: a workflow file holds one JSON object")
    return dump_workflow(rewrite_workflow(content, rel, triggers, notes))


def _skills(src: Path, notes: Notes) -> dict[str, str]:
    """Skill folders, each named after its front matter `name` (as required here)."""
    out: dict[str, str] = {}
    root = src / "skills"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        name = _skill_name(folder / "SKILL.md") or folder.name
        if name != folder.name:
            notes.add(f"skills/{name}", f"folder skills/{folder.name} renamed after its "
                      f"front matter name {name!r}")
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                rel = path.relative_to(folder).as_posix()
                out[f"skills/{name}/{rel}"] = read_text(path)
    return out


def _skill_name(path: Path) -> str | None:
    if not path.is_file():
        return None
    text = read_text(path)
    if not text.startswith("---"):
        return None
    head = text[3:].split("\n---", 1)[0]
    try:
        front = yaml.safe_load(head)
    except yaml.YAMLError:
        return None
    name = front.get("name") if isinstance(front, dict) else None
    return name if isinstance(name, str) and re.fullmatch(r"[a-z0-9-]{1,64}", name) else None


def _write(result: ImportResult, outputs: dict[str, str]) -> None:
    folder = result.folder
    for sub in ("workflows", "skills"):
        for old in sorted((folder / sub).rglob("*")) if (folder / sub).is_dir() else []:
            rel = old.relative_to(folder).as_posix()
            if old.is_file() and rel not in outputs:
                old.unlink()
                result.removed.append(rel)
    for rel, text in outputs.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            result.written.append(rel)
    for sub in ("skills",):
        for empty in sorted((folder / sub).glob("*/"), reverse=True):
            if empty.is_dir() and not any(empty.iterdir()):
                shutil.rmtree(empty)


def _platform_stub(repo: Path, owner: Owner, result: ImportResult) -> None:
    """What the reference platform kept (owner, organization) as a commented stub."""
    path = repo / "platform.yaml"
    if path.exists():
        return
    path.write_text(
        "# yaml-language-server: $schema=../schemas/platform.schema.json\n"
        "# Written by `reconciler import codika`: the reference platform kept its users\n"
        "# and organizations itself. Replace these with your real ones (and add the\n"
        "# other members and organizations that install the use case).\n"
        "users:\n"
        f"  - {{id: {owner.user}, name: {owner.user}, email: {owner.user}@example.com}}\n"
        "organizations:\n"
        f"  - id: {owner.org}\n"
        f"    name: {owner.org}\n"
        "    members:\n"
        f"      - {{user: {owner.user}, role: owner}}\n", encoding="utf-8")
    result.written.append("../../platform.yaml")
    result.notes.add("platform.yaml", f"stub written with owner {owner.user} of "
                     f"{owner.org}: replace it with your users and organizations")

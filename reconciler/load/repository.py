"""Load the declared state from a source, collecting every problem, not only the first.

Layout:
    platform.yaml
    use-cases/<slug>/use-case.yaml, version.json, workflows/*.json, skills/<name>/SKILL.md
    instances/<id>.yaml
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reconciler.adapters.git import MAX_FILE_BYTES, Entry
from reconciler.errors import InvalidInput, Problem
from reconciler.load.fingerprint import file_digest, use_case_fingerprint
from reconciler.load.source import Source
from reconciler.load.yamlfile import YamlError, parse_yaml
from reconciler.model.declared import (
    SLUG,
    InstanceSpec,
    PlatformFile,
    SkillFrontMatter,
    UseCaseConfig,
    VersionFile,
)
from reconciler.model.lines import LineMap
from reconciler.model.placeholders import parse_workflow_text
from reconciler.model.repository import DeclaredState, InstanceDecl, Skill, UseCase, WorkflowFile

M = TypeVar("M", bound=BaseModel)

PLATFORM_FILE = "platform.yaml"
USE_CASES = "use-cases"
INSTANCES = "instances"
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n?(.*)\Z", re.S)


@dataclass
class _Reader:
    """Reads and decodes files, turning every failure into a Problem."""

    source: Source
    problems: list[Problem] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entries = {e.path: e for e in self.source.entries()}

    def add(self, file: str, message: str, line: int | None = None,
            field_: str | None = None) -> None:
        self.problems.append(Problem(file=file, message=message, line=line, field=field_))

    def text(self, path: str) -> str | None:
        entry = self.entries.get(path)
        if entry is None:
            self.add(path, "file is missing")
            return None
        if entry.kind != "file":
            self.add(path, f"is a {entry.kind}; only regular files are read "
                           "(a link could point outside the repository)")
            return None
        if entry.size > MAX_FILE_BYTES:
            self.add(path, f"file is {entry.size} bytes; the limit is {MAX_FILE_BYTES}")
            return None
        data = self.source.read(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.add(path, f"not UTF-8 (byte {exc.start})", line=line)
            return None

    def yaml_model(self, path: str, model: type[M]) -> tuple[M | None, LineMap]:
        text = self.text(path)
        if text is None:
            return None, LineMap()
        try:
            data, lines = parse_yaml(text)
        except YamlError as exc:
            self.add(path, f"invalid YAML: {exc.message}", line=exc.line)
            return None, LineMap()
        return self.validate(path, model, data, lines), lines

    def validate(self, path: str, model: type[M], data: Any, lines: LineMap) -> M | None:
        if data is None:
            data = {}
        try:
            # JSON mode: strict types, but enums are given as their string values.
            return model.model_validate_json(json.dumps(data))
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                self.add(path, _message(err), line=lines.line_of(loc), field_=_dotted(loc))
            return None
        except (TypeError, ValueError) as exc:  # a YAML value JSON cannot hold
            self.add(path, f"unsupported value: {exc}")
            return None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see the JSON Schema in schemas/)"
    if err["type"] == "missing":
        return "required key is missing"
    msg: str = err["msg"]
    return msg.removeprefix("Value error, ")


def load(source: Source) -> DeclaredState:
    """Load and check the declared state; raises InvalidInput listing every problem."""
    reader = _Reader(source)
    for entry in reader.entries.values():
        if entry.kind == "symlink" and _managed(entry.path):
            reader.add(entry.path, "symbolic links are not allowed in the repository")
    platform, platform_lines = reader.yaml_model(PLATFORM_FILE, PlatformFile)
    use_cases = _load_use_cases(reader)
    instances = _load_instances(reader)
    if reader.problems or platform is None:
        raise InvalidInput(sorted(reader.problems, key=lambda p: (p.file, p.line or 0)))
    return DeclaredState(
        source=source.label,
        revision=source.revision,
        platform=platform,
        platform_lines=platform_lines,
        use_cases=use_cases,
        instances=instances,
    )


def _managed(path: str) -> bool:
    return path == PLATFORM_FILE or path.startswith((f"{USE_CASES}/", f"{INSTANCES}/"))


def _children(reader: _Reader, folder: str) -> list[str]:
    """Names of the direct sub-folders of `folder` that hold files."""
    names = set()
    for path in reader.entries:
        if path.startswith(folder + "/"):
            rest = path[len(folder) + 1 :]
            if "/" in rest:
                names.add(rest.split("/", 1)[0])
    return sorted(names)


def _load_use_cases(reader: _Reader) -> dict[str, UseCase]:
    found: dict[str, UseCase] = {}
    for slug in _children(reader, USE_CASES):
        folder = f"{USE_CASES}/{slug}"
        if not re.match(SLUG, slug):
            reader.add(folder, f"use-case folder name {slug!r} must match {SLUG}")
            continue
        use_case = _load_use_case(reader, slug, folder)
        if use_case is not None:
            found[slug] = use_case
    return found


def _load_use_case(reader: _Reader, slug: str, folder: str) -> UseCase | None:
    before = len(reader.problems)
    config, lines = reader.yaml_model(f"{folder}/use-case.yaml", UseCaseConfig)
    version = _load_version(reader, f"{folder}/version.json")
    workflows = _load_workflows(reader, folder, config) if config else ()
    skills = _load_skills(reader, folder)
    if len(reader.problems) > before or config is None or version is None:
        return None
    digests = _digests(folder, config, workflows, skills)
    return UseCase(
        slug=slug,
        path=folder,
        config=config,
        version=version,
        workflows=workflows,
        skills=skills,
        fingerprint=use_case_fingerprint(digests),
        file_digests=digests,
        lines=lines,
    )


def _digests(folder: str, config: UseCaseConfig, workflows: tuple[WorkflowFile, ...],
             skills: tuple[Skill, ...]) -> dict[str, str]:
    digests = {"use-case.yaml": file_digest(config.model_dump(mode="json"))}
    for wf in workflows:
        digests[wf.spec.file] = file_digest(wf.content)
    for skill in skills:
        digests[skill.path.removeprefix(folder + "/")] = file_digest(
            skill.text.replace("\r\n", "\n")
        )
    return digests


def _load_version(reader: _Reader, path: str) -> str | None:
    text = reader.text(path)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reader.add(path, f"invalid JSON: {exc.msg}", line=exc.lineno)
        return None
    model = reader.validate(path, VersionFile, data, LineMap({(): 1}))
    return model.version if model else None


def _load_workflows(reader: _Reader, folder: str,
                    config: UseCaseConfig) -> tuple[WorkflowFile, ...]:
    loaded: list[WorkflowFile] = []
    for spec in config.workflows:
        path = f"{folder}/{spec.file}"
        text = reader.text(path)
        if text is None:
            continue
        try:
            content = parse_workflow_text(text)
        except json.JSONDecodeError as exc:
            reader.add(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
            continue
        if not isinstance(content, dict):
            reader.add(path, "a workflow file must hold a JSON object", line=1)
            continue
        loaded.append(WorkflowFile(spec=spec, path=path, text=text, content=content))
    listed = {f"{folder}/{spec.file}" for spec in config.workflows}
    for path in sorted(reader.entries):
        if path.startswith(f"{folder}/workflows/") and path not in listed:
            reader.add(path, "workflow file is not listed in use-case.yaml 'workflows'")
    return tuple(loaded)


def _load_skills(reader: _Reader, folder: str) -> tuple[Skill, ...]:
    skills: list[Skill] = []
    base = f"{folder}/skills"
    for name in _children(reader, base):
        path = f"{base}/{name}/SKILL.md"
        text = reader.text(path)
        if text is None:
            continue
        skill = _parse_skill(reader, name, path, text)
        if skill is not None:
            skills.append(skill)
    return tuple(skills)


def _parse_skill(reader: _Reader, name: str, path: str, text: str) -> Skill | None:
    match = _FRONT_MATTER.match(text)
    if match is None:
        reader.add(path, "SKILL.md must start with YAML front matter between '---' lines",
                   line=1)
        return None
    try:
        data, lines = parse_yaml(match.group(1))
    except YamlError as exc:
        reader.add(path, f"invalid front matter: {exc.message}",
                   line=(exc.line or 0) + 1 if exc.line else None)
        return None
    # Front matter starts on line 2 of the file.
    shifted = LineMap({k: v + 1 for k, v in lines.lines.items()})
    front = reader.validate(path, SkillFrontMatter, data, shifted)
    if front is None:
        return None
    return Skill(name=name, path=path, front=front, body=match.group(2), text=text)


def _load_instances(reader: _Reader) -> dict[str, InstanceDecl]:
    found: dict[str, InstanceDecl] = {}
    for path in sorted(reader.entries):
        if not path.startswith(f"{INSTANCES}/"):
            continue
        name = path[len(INSTANCES) + 1 :]
        if "/" in name or not name.endswith((".yaml", ".yml")):
            reader.add(path, "instances/ holds only <id>.yaml files")
            continue
        instance_id = name.rsplit(".", 1)[0]
        if not re.match(SLUG, instance_id):
            reader.add(path, f"instance id {instance_id!r} (the file name) must match {SLUG}")
            continue
        if instance_id in found:
            reader.add(path, f"instance id {instance_id!r} is declared twice")
            continue
        spec, lines = reader.yaml_model(path, InstanceSpec)
        if spec is not None:
            found[instance_id] = InstanceDecl(id=instance_id, path=path, spec=spec, lines=lines)
    return found



"""Load the declared state from a source, collecting every problem, not only the first.

Layout:
    platform.yaml
    use-cases/<slug>/use-case.yaml, version.json, workflows/*.json, skills/<name>/SKILL.md
    instances/<id>.yaml

Paths with a component starting with "." (editor swap files, `.git`, `.github`) are
not part of the declared state, whichever source they come from.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reconciler.adapters.git import MAX_FILE_BYTES, Entry
from reconciler.errors import InvalidInput, Problem
from reconciler.load.fingerprint import file_digest, use_case_fingerprint
from reconciler.load.limits import check_json_text
from reconciler.load.smoke import load_tests
from reconciler.load.source import Source
from reconciler.load.yamlfile import YamlError, parse_yaml
from reconciler.model.declared import (
    ENV_VAR,
    PARAM_NAME,
    SEMVER,
    SLUG,
    WORKFLOW_FILE,
    InstanceSpec,
    PlatformFile,
    SkillFrontMatter,
    UseCaseConfig,
    VersionFile,
)
from reconciler.model.lines import LineMap, dotted
from reconciler.model.placeholders import parse_workflow_text
from reconciler.model.repository import DeclaredState, InstanceDecl, Skill, UseCase, WorkflowFile

M = TypeVar("M", bound=BaseModel)

PLATFORM_FILE = "platform.yaml"
USE_CASES = "use-cases"
INSTANCES = "instances"
SKILL_FILE = "SKILL.md"
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n(.*))?\Z", re.S)
# A JSON escape of NUL: the parser's marker for bare placeholders starts with NUL, so
# a string holding one could pass for a placeholder.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000", re.I)


@dataclass
class _Reader:
    """Reads and decodes files, turning every failure into a Problem."""

    source: Source
    problems: list[Problem] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)
    # files already reported as unreadable, so one cause gives one message
    refused: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.entries = {e.path: e for e in self.source.entries()
                        if not any(part.startswith(".") for part in e.path.split("/"))}

    def add(self, file: str, message: str, line: int | None = None,
            field_: str | None = None) -> None:
        self.problems.append(Problem(file=file, message=message, line=line, field=field_))

    def refuse(self, entry: Entry) -> None:
        if entry.path in self.refused:
            return
        self.refused.add(entry.path)
        if entry.kind == "symlink":
            self.add(entry.path, "symbolic links are not allowed in the repository "
                                 "(a link could point outside it)")
        else:
            self.add(entry.path, f"is a {entry.kind}; only regular files are read")

    def data(self, path: str) -> bytes | None:
        """The bytes of a regular file within the size limit; else None, reported."""
        entry = self.entries.get(path)
        if entry is None:
            self.add(path, "file is missing")
            return None
        if entry.kind != "file":
            self.refuse(entry)
            return None
        if entry.size > MAX_FILE_BYTES:
            self.add(path, f"file is {entry.size} bytes; the limit is {MAX_FILE_BYTES}")
            return None
        return self.source.read(path)

    def text(self, path: str) -> str | None:
        data = self.data(path)
        if data is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.add(path, f"not UTF-8 (byte {exc.start})", line=line)
            return None
        # Some editors write a byte-order mark; it is not content.
        return text.removeprefix("\ufeff")

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
            encoded = json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as exc:  # a YAML value JSON cannot hold
            self.add(path, f"unsupported value: {exc}")
            return None
        try:
            # JSON mode: strict types, but enums are given as their string values.
            return model.model_validate_json(encoded)
        except ValidationError as exc:
            for err in exc.errors():
                loc = _data_path(data, (*err["loc"], *err.get("ctx", {}).get("at", ())))
                if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                    loc = (*loc, "type")  # the discriminator key is what to fix
                self.add(path, _message(err), line=lines.line_of(loc),
                         field_=dotted(loc) or "(document)")
            return None


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """pydantic's error location as a path into the data the user wrote.

    Tagged unions add the tag to the location (`triggers.0.http.path`); the user
    wrote no `http` key, so such steps are dropped.
    """
    out: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if (isinstance(node, dict) and part not in node and index + 1 < len(loc)
                and node.get("type") == part):
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see the JSON Schema in schemas/)"
    if err["type"] in ("missing", "union_tag_not_found"):
        return "required key is missing"
    if err["type"] == "union_tag_invalid":
        return f"{err['ctx']['tag']!r} is not one of {err['ctx']['expected_tags']}"
    if err["type"] == "string_pattern_mismatch":
        pattern = err["ctx"]["pattern"]
        if pattern == ENV_VAR:  # the value may be a secret written by mistake: not echoed
            return _PATTERNS[ENV_VAR]
        if pattern in _PATTERNS:
            return f"{err['input']!r} {_PATTERNS[pattern]}"
    friendly = _plain(err["type"], err.get("ctx") or {})
    if friendly is not None:
        return friendly
    msg: str = err["msg"]
    return msg.removeprefix("Value error, ")


def _plain(kind: str, ctx: dict[str, Any]) -> str | None:
    """pydantic's wording for the common errors, in the project's words."""
    count = ctx.get("min_length")
    table = {
        "too_short": f"needs at least {count} item(s)" if count else None,
        "too_long": f"holds at most {ctx.get('max_length')} item(s)",
        "string_too_short": "must not be empty" if count == 1 else
        f"needs at least {count} characters",
        "string_too_long": f"holds at most {ctx.get('max_length')} characters",
        "string_type": "must be text (quote it in YAML)",
        "int_type": "must be a whole number", "int_from_float": "must be a whole number",
        "bool_type": "must be true or false", "list_type": "must be a list",
        "dict_type": "must be a mapping", "model_type": "must be a mapping",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "literal_error": f"must be one of {ctx.get('expected')}",
        "enum": f"must be one of {ctx.get('expected')}",
    }
    return table.get(kind)


# The patterns users meet most, said in words.
_PATTERNS = {
    SEMVER: "is not a version: write X.Y.Z, e.g. 1.2.0",
    SLUG: "must be lowercase letters, digits and '-' (at most 63, starting with a "
          "letter or digit)",
    PARAM_NAME: "must be upper case letters, digits and '_', starting with a letter",
    ENV_VAR: "must be the NAME of an environment variable (A-Z, 0-9, _); never write "
             "the value itself here",
    WORKFLOW_FILE: "must be workflows/<name>.json, a file in the use case's workflows/ "
                   "folder",
}


@dataclass(frozen=True)
class Loaded:
    """What could be loaded, and every problem found on the way.

    `state` holds the files that loaded cleanly (None without a usable
    platform.yaml); `broken` names use cases that exist but did not load, so later
    checks do not also call them missing.
    """

    state: DeclaredState | None
    problems: tuple[Problem, ...]
    broken: frozenset[str]


def load(source: Source) -> DeclaredState:
    """Load and check the declared state; raises InvalidInput listing every problem."""
    loaded = load_all(source)
    if loaded.problems or loaded.state is None:
        raise InvalidInput(loaded.problems)
    return loaded.state


def load_all(source: Source) -> Loaded:
    """Load what can be loaded and collect every problem; never raises InvalidInput."""
    reader = _Reader(source)
    for entry in reader.entries.values():
        if entry.kind != "file" and _managed(entry.path):
            reader.refuse(entry)
    platform, platform_lines = reader.yaml_model(PLATFORM_FILE, PlatformFile)
    use_cases, broken = _load_use_cases(reader)
    instances = _load_instances(reader)
    problems = tuple(sorted(reader.problems, key=lambda p: (p.file, p.line or 0)))
    state = None
    if platform is not None:
        state = DeclaredState(
            source=source.label,
            revision=source.revision,
            platform=platform,
            platform_lines=platform_lines,
            use_cases=use_cases,
            instances=instances,
            load_problems=problems,
            broken_use_cases=frozenset(broken),
            broken_instances=frozenset(_instance_of(p.file) for p in problems
                                       if p.file.startswith(f"{INSTANCES}/")),
        )
    return Loaded(state=state, problems=problems, broken=frozenset(broken))


def load_partial(source: Source) -> DeclaredState:
    """What loaded, with what did not (the gate holds that back); raises InvalidInput
    only when platform.yaml itself does not load, since everything depends on it."""
    loaded = load_all(source)
    if loaded.state is None:
        raise InvalidInput(loaded.problems)
    return loaded.state


def _instance_of(file: str) -> str:
    name = file[len(INSTANCES) + 1 :].split("/", 1)[0]
    return name.rsplit(".", 1)[0] if name.endswith((".yaml", ".yml")) else name


def checkable(loaded: Loaded) -> DeclaredState | None:
    """The loaded state minus instances of broken use cases, for cross-file checks."""
    if loaded.state is None:
        return None
    instances = {key: inst for key, inst in loaded.state.instances.items()
                 if inst.spec.use_case not in loaded.broken}
    return replace(loaded.state, instances=instances)


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


def _load_use_cases(reader: _Reader) -> tuple[dict[str, UseCase], list[str]]:
    found: dict[str, UseCase] = {}
    broken: list[str] = []
    for slug in _children(reader, USE_CASES):
        folder = f"{USE_CASES}/{slug}"
        if not re.match(SLUG, slug):
            reader.add(folder, f"use-case folder name {slug!r} {_PATTERNS[SLUG]}")
            broken.append(slug)
            continue
        use_case = _load_use_case(reader, slug, folder)
        if use_case is None:
            broken.append(slug)
        else:
            found[slug] = use_case
    return found, broken


def _load_use_case(reader: _Reader, slug: str, folder: str) -> UseCase | None:
    before = len(reader.problems)
    config_path = f"{folder}/use-case.yaml"
    config, lines = reader.yaml_model(config_path, UseCaseConfig)
    version = _load_version(reader, f"{folder}/version.json")
    workflows = _load_workflows(reader, folder, config, lines) if config else ()
    skills, extra = _load_skills(reader, folder)
    tests, tests_digest = load_tests(reader, folder)
    if len(reader.problems) > before or config is None or version is None:
        return None
    digests = _digests(folder, config, workflows, skills)
    digests.update(extra)
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
        tests=tests,
        tests_digest=tests_digest,
    )


def _digests(folder: str, config: UseCaseConfig, workflows: tuple[WorkflowFile, ...],
             skills: tuple[Skill, ...]) -> dict[str, str]:
    # use-case.yaml as validated data: comments, key order, quoting and spelled-out
    # defaults are not content. version.json is deliberately absent: the version
    # names content, it is not content.
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
        check_json_text(text)
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reader.add(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
        return None
    model = reader.validate(path, VersionFile, data, LineMap({(): 1}))
    return model.version if model else None


def _load_workflows(reader: _Reader, folder: str, config: UseCaseConfig,
                    lines: LineMap) -> tuple[WorkflowFile, ...]:
    loaded: list[WorkflowFile] = []
    for index, spec in enumerate(config.workflows):
        path = f"{folder}/{spec.file}"
        if path not in reader.entries:
            # Point at the line that names the file: that is what to fix.
            at = ("workflows", index, "file")
            reader.add(f"{folder}/use-case.yaml", f"{spec.file} is listed but does not exist",
                       line=lines.line_of(at), field_=dotted(at))
            continue
        text = reader.text(path)
        if text is None:
            continue
        content = _parse_workflow(reader, path, text)
        if content is not None:
            loaded.append(WorkflowFile(spec=spec, path=path, text=text, content=content))
    listed = {f"{folder}/{spec.file}" for spec in config.workflows}
    for path in sorted(reader.entries):
        if path.startswith(f"{folder}/workflows/") and path not in listed:
            reader.add(path, "workflow file is not listed in use-case.yaml 'workflows'")
    return tuple(loaded)


def _parse_workflow(reader: _Reader, path: str, text: str) -> dict[str, Any] | None:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        # json keeps the last of two equal keys silently; the first would be dead text.
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        check_json_text(text)  # before the recursive parser
        content = parse_workflow_text(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        reader.add(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
        return None
    ok = True
    for key in dict.fromkeys(duplicates):
        reader.add(path, f"duplicate key {key!r}", line=_last_line_of(text, json.dumps(key)))
        ok = False
    nul = _NUL_ESCAPE.search(text)
    if nul is not None:
        reader.add(path, "\\u0000 is not allowed in a workflow",
                   line=text.count("\n", 0, nul.start()) + 1)
        ok = False
    if not isinstance(content, dict):
        reader.add(path, "a workflow file must hold a JSON object", line=1)
        return None
    return content if ok else None


def _last_line_of(text: str, needle: str) -> int | None:
    index = text.rfind(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _load_skills(reader: _Reader, folder: str) -> tuple[tuple[Skill, ...], dict[str, str]]:
    """The skills, and digests of the other files of skill folders (also content)."""
    skills: list[Skill] = []
    extra: dict[str, str] = {}
    base = f"{folder}/skills"
    for path in sorted(reader.entries):
        if (path.startswith(base + "/") and "/" not in path[len(base) + 1 :]
                and reader.entries[path].kind == "file"):
            reader.add(path, "skills/ holds one folder per skill: skills/<name>/SKILL.md")
    for name in _children(reader, base):
        path = f"{base}/{name}/{SKILL_FILE}"
        for other in sorted(reader.entries):
            if other.startswith(f"{base}/{name}/") and other != path:
                data = reader.data(other)
                if data is not None:
                    extra[other.removeprefix(folder + "/")] = hashlib.sha256(data).hexdigest()
        text = reader.text(path)
        if text is None:
            continue
        skill = _parse_skill(reader, name, path, text)
        if skill is not None:
            skills.append(skill)
    return tuple(skills), extra


def _parse_skill(reader: _Reader, name: str, path: str, text: str) -> Skill | None:
    match = _FRONT_MATTER.match(text)
    if match is None:
        reader.add(path, "SKILL.md must start with YAML front matter between '---' lines",
                   line=1)
        return None
    try:
        data, lines = parse_yaml(match.group(1) or "")
    except YamlError as exc:
        reader.add(path, f"invalid front matter: {exc.message}",
                   line=exc.line + 1 if exc.line else None)
        return None
    # Front matter starts on line 2 of the file.
    shifted = LineMap({k: v + 1 for k, v in lines.lines.items()})
    shifted.lines.setdefault((), 1)
    front = reader.validate(path, SkillFrontMatter, data, shifted)
    if front is None:
        return None
    return Skill(name=name, path=path, front=front, body=match.group(2) or "", text=text,
                 lines=shifted)


def _load_instances(reader: _Reader) -> dict[str, InstanceDecl]:
    found: dict[str, InstanceDecl] = {}
    seen: set[str] = set()
    for path in sorted(reader.entries):
        if not path.startswith(f"{INSTANCES}/"):
            continue
        name = path[len(INSTANCES) + 1 :]
        if "/" in name or not name.endswith((".yaml", ".yml")):
            reader.add(path, "instances/ holds only <id>.yaml files")
            continue
        instance_id = name.rsplit(".", 1)[0]
        if not re.match(SLUG, instance_id):
            reader.add(path, f"instance id {instance_id!r} (the file name) {_PATTERNS[SLUG]}")
            continue
        if instance_id in seen:
            reader.add(path, f"instance id {instance_id!r} is declared twice")
            continue
        seen.add(instance_id)
        spec, lines = reader.yaml_model(path, InstanceSpec)
        if spec is not None:
            found[instance_id] = InstanceDecl(id=instance_id, path=path, spec=spec, lines=lines)
    return found

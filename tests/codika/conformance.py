"""Run the corpus through the real `codika` validator and through ours, side by side."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reconciler.adapters.codika_cli import CodikaInstall
from reconciler.importers.codika import CodikaImportError, Owner, import_codika
from reconciler.load.source import FolderSource
from reconciler.validate.engine import lint_source, select_rules
from tests.codika.corpus import Case, cases
from tests.codika.folders import codika_init, repair

VERIFY = Path(__file__).with_name("verify_many.mjs")


@dataclass(frozen=True)
class Verdict:
    case: Case
    theirs: frozenset[str]
    ours: frozenset[str]

    @property
    def codika_flags(self) -> bool:
        return self.case.codika_rule in self.theirs

    @property
    def we_flag(self) -> bool:
        return bool(self.case.ours & self.ours)

    @property
    def agree(self) -> bool:
        return self.codika_flags == self.we_flag


def build(codika: CodikaInstall, root: Path) -> dict[str, Path]:
    """The base folder (from `codika init`, repaired as a user would) and each case."""
    root.mkdir(parents=True, exist_ok=True)
    # Without the data-ingestion scaffold: `codika verify` flags its own template
    # (TRIGGERS-REQUIRED), and the base must pass on both sides.
    base = codika_init(codika, root, "base", ingestion=False)
    repair(base)
    (base / "project.json").write_text('{"projectId": "p-conformance"}\n')
    folders = {"base": base}
    for case in cases():
        folder = root / case.name
        shutil.copytree(base, folder)
        case.mutate(folder)
        folders[case.name] = folder
    return folders


def theirs(codika: CodikaInstall, folders: list[Path]) -> dict[str, frozenset[str]]:
    proc = subprocess.run([str(codika.node), str(VERIFY), str(codika.package)],
                          input=json.dumps([str(f) for f in folders]), capture_output=True,
                          text=True, timeout=300, check=True)
    return {Path(k).name: frozenset(v) for k, v in json.loads(proc.stdout).items()}


def ours(codika: CodikaInstall, folder: Path, repo: Path) -> frozenset[str]:
    try:
        import_codika(folder, repo, Owner("alice", "acme"), codika, "demo")
    except CodikaImportError:
        return frozenset({"LOAD"})
    result = lint_source(FolderSource(repo), select_rules())
    return frozenset(p.rule or "" for p in result.problems)


def run(codika: CodikaInstall, root: Path) -> tuple[frozenset[str], frozenset[str],
                                                   list[Verdict]]:
    folders = build(codika, root / "corpus")
    verdicts = theirs(codika, list(folders.values()))
    mine = {name: ours(codika, folder, root / "repos" / name)
            for name, folder in folders.items()}
    table = [Verdict(case, verdicts[case.name], mine[case.name]) for case in cases()]
    return verdicts["base"], mine["base"], table

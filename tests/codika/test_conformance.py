"""The real `codika` validator and `reconciler validate`, side by side on the corpus.

Each case of tests/codika/corpus.py aims at one Codika rule; the two agree on it
when both report it or neither does. Agreement must be at least 95 %, and every
case where they differ is listed in docs/rules.md as a deliberate difference.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.adapters.codika_cli import CodikaInstall
from tests.codika.conformance import run

RULES_MD = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_codika_verify_and_validate_agree(codika: CodikaInstall, tmp_path: Path) -> None:
    base_theirs, base_ours, table = run(codika, tmp_path)
    assert base_theirs == frozenset() and base_ours == frozenset()
    assert len(table) >= 60
    assert len({v.case.codika_rule for v in table}) >= 20
    differ = [v for v in table if not v.agree]
    agreement = 1 - len(differ) / len(table)
    listing = "\n".join(f"{v.case.name}: codika {sorted(v.theirs)} / ours {sorted(v.ours)}"
                        for v in differ)
    # The report (shown with `pytest -rP`): the figure docs/migrating-from-codika.md cites.
    print(f"codika verify and reconciler validate agree on {len(table) - len(differ)} of "
          f"{len(table)} cases ({agreement:.1%}), {len({v.case.codika_rule for v in table})} "
          f"Codika rules targeted\n{listing}")
    assert agreement >= 0.95, listing
    documented = RULES_MD.read_text(encoding="utf-8")
    missing = [v.case.name for v in differ if f"`{v.case.name}`" not in documented]
    assert not missing, f"disagreements not listed in docs/rules.md: {missing}\n{listing}"

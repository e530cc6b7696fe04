"""JUnit XML, the one writer for `validate --format junit` and `report --format junit`.

Counts (tests, failures, skipped) are derived from the cases when written, so a
report can never hold a `<failure>` its totals do not count.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Case:
    name: str
    classname: str
    time: float | None = None
    failure: str | None = None  # the message; the case failed
    failure_type: str | None = None
    failure_text: str | None = None
    skipped: str | None = None  # the reason; the case was skipped
    output: str | None = None  # system-out (warnings)


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"tests": len(self.cases),
                "failures": sum(c.failure is not None for c in self.cases),
                "errors": 0,
                "skipped": sum(c.skipped is not None and c.failure is None
                               for c in self.cases)}


def _case(parent: ET.Element, case: Case) -> None:
    attrs = {"classname": case.classname, "name": case.name}
    if case.time is not None:
        attrs["time"] = f"{case.time:.3f}"
    node = ET.SubElement(parent, "testcase", attrs)
    if case.failure is not None:
        failure = ET.SubElement(node, "failure", message=case.failure,
                                type=case.failure_type or "failure")
        failure.text = case.failure_text or case.failure
    elif case.skipped is not None:
        ET.SubElement(node, "skipped", message=case.skipped)
    if case.output:
        ET.SubElement(node, "system-out").text = case.output


def junit_xml(name: str, suites: Sequence[Suite]) -> str:
    root = ET.Element("testsuites", name=name)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in suites:
        counts = suite.counts()
        node = ET.SubElement(root, "testsuite",
                             {"name": suite.name, **{k: str(v) for k, v in counts.items()}})
        for case in suite.cases:
            _case(node, case)
        for key, value in counts.items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)

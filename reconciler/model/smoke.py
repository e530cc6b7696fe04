"""Smoke tests a use case declares: `use-cases/<slug>/tests/<name>.yaml`.

A test calls one workflow of a deployed instance through its trigger (its http
webhook, or a schedule's manual trigger path) and compares the answer with what it
expects. The model is the single source of `schemas/smoke-test.schema.json`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from reconciler.model.declared import PARAM_NAME, WORKFLOW_ID, Strict, located

MAX_REGEX = 200  # a matcher's pattern: short, and matched against bounded text
MAX_TIMEOUT = 120.0


class Matcher(Strict):
    """One check on a value the JSONPath selects in the answer's body."""

    path: str = Field(pattern=r"^\$", max_length=200,
                      description="JSONPath (subset: $, .key, ['key'], [n], [*], .*).")
    equals: Any = Field(default=None, description="The value must equal this.")
    regex: str | None = Field(default=None, max_length=MAX_REGEX,
                              description="The value (as text) must match this pattern.")
    exists: bool | None = Field(default=None,
                                description="true: the path selects something; false: nothing.")

    @model_validator(mode="after")
    def _one(self) -> Matcher:
        given = [k for k in ("equals", "regex", "exists") if k in self.model_fields_set]
        if len(given) != 1:
            raise located("a matcher needs exactly one of 'equals', 'regex', 'exists'", "path")
        return self


class Expect(Strict):
    """What the answer must be; every part given is checked."""

    status: int = Field(default=200, ge=100, le=599, description="HTTP status of the answer.")
    body: Any = Field(default=None, description="The whole body, exactly.")
    subset: Any = Field(default=None, description="The body contains this (objects: these "
                        "keys with these values, recursively; lists: element by element).")
    matchers: list[Matcher] = Field(default_factory=list)


class SmokeTestFile(Strict):
    """`use-cases/<slug>/tests/<name>.yaml`: one call and what must come back."""

    description: str | None = None
    workflow: str = Field(pattern=WORKFLOW_ID, description="The workflow id in use-case.yaml.")
    payload: dict[str, Any] = Field(default_factory=dict,
                                    description="The JSON object sent to the trigger.")
    parameters: dict[Annotated[str, Field(pattern=PARAM_NAME)], Any] = Field(
        default_factory=dict,
        description="Deployment parameters the test assumes: a preview deploys with them; "
                    "on dev, a value the instance does not have fails the test.")
    expect: Expect = Field(default_factory=Expect)
    timeout: float = Field(default=30.0, gt=0, le=MAX_TIMEOUT,
                           description="Seconds to wait for the answer.")

"""The API's response and error shapes, as they appear in the OpenAPI spec."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["pending", "success", "failed"]
ErrorClass = Literal["node_failure", "timeout", "validation_error", "external_api_error",
                     "not_started"]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_api_key.")
    message: str
    execution_id: str | None = None
    errors: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    detail: ErrorBody


class Tokens(BaseModel):
    prompt: int
    completion: int
    total: int
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Execution(BaseModel):
    id: str = Field(description="UUIDv7: sorts by start time.")
    instance_id: str
    workflow_id: str
    n8n_workflow_id: str | None
    n8n_execution_id: str | None
    status: Status
    started_at: str
    finished_at: str | None
    duration_ms: int | None
    error_class: ErrorClass | None
    error_name: str | None
    failed_node: str | None
    last_node: str | None = Field(description="The last node that ran successfully.")
    tokens: Tokens | None
    cost: float | None = Field(description="USD, from the price table per model.")
    trigger_source: Literal["api", "error_workflow"]
    payload_hash: str | None


class Run(BaseModel):
    n8n_execution_id: str
    n8n_workflow_id: str | None
    workflow_id: str | None
    called_from_node: str | None
    status: Status
    n8n_status: str | None
    mode: str | None
    started_at: str | None
    stopped_at: str | None
    duration_ms: int | None
    error: dict[str, Any] | None
    error_class: ErrorClass | None
    failed_node: str | None
    last_node: str | None
    output: list[Any]
    tokens: Tokens | None
    cost: float | None
    run_data: dict[str, Any]
    sub_executions: list[dict[str, Any]]
    children: list[Run]


class ExecutionDetail(BaseModel):
    execution: Execution
    run: Run | None = Field(description="The n8n execution, when it is known.")


class ExecutionList(BaseModel):
    data: list[Execution]


class TriggerResult(BaseModel):
    execution: Execution
    response: Any = Field(default=None, description="n8n's webhook answer, when it came.")


class SkillTrigger(BaseModel):
    workflow_id: str
    kind: Literal["http", "schedule"]
    method: str
    api_url: str | None
    webhook_url: str
    input_schema: dict[str, Any]


class Skill(BaseModel):
    name: str
    description: str
    workflow_id: str | None
    path: str
    trigger: SkillTrigger | None
    markdown: str


class SkillList(BaseModel):
    instance_id: str
    data: list[Skill]


class ErrorReportResult(BaseModel):
    recorded: str | None = Field(description="The execution record id, if one was written.")
    action: Literal["recorded", "completed", "sub_execution"]


class CatalogVersions(BaseModel):
    branch: str = Field(description="The version described (newest published, else newest "
                                    "stored).")
    published: list[str]


class CatalogRequirement(BaseModel):
    name: str
    type: str
    label: str | None
    description: str | None
    used_by: list[str] = Field(description="Workflow ids whose INSTPARM placeholders read it.")


class CatalogIntegration(BaseModel):
    integration: str
    scope: str = Field(description="Placeholder scope: USERCRED, ORGCRED, FLEXCRED, ...")
    whose: str


class CatalogEntry(BaseModel):
    use_case: str
    title: str
    subtitle: str | None
    description: str
    type: Literal["personal", "organizational"]
    visibility: str
    owner: str
    versions: CatalogVersions
    required_parameters: list[CatalogRequirement]
    integrations: list[CatalogIntegration]
    install_as: list[str] = Field(description="Owners to pass to `reconciler install --for`.")
    installed: list[str]


class CatalogList(BaseModel):
    for_: str = Field(alias="for", description="user:ID or org:ID: the key's instance owner.")
    data: list[CatalogEntry]

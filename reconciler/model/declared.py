"""The declared state: what users write in the repository, as strict pydantic models.

Every model rejects unknown keys so a typo is an error, never silently ignored.
These models are the single source of the JSON Schemas in `schemas/`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
WORKFLOW_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
PARAM_NAME = r"^[A-Z][A-Z0-9_]{0,62}$"
INTEGRATION = r"^[a-z0-9][a-z0-9_-]{0,62}$"
SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$"
ENV_VAR = r"^[A-Z][A-Z0-9_]*$"
WORKFLOW_FILE = r"^workflows/[^/]+\.json$"

Slug = Annotated[str, Field(pattern=SLUG)]
Integration = Annotated[str, Field(pattern=INTEGRATION)]


def located(message: str, *at: str | int) -> PydanticCustomError:
    """A model-level error that names the key it is about.

    A model validator's error is placed at the model itself; `at` (relative to the
    model) travels in the error context so the loader can point at the exact key
    and line instead of the top of the document.
    """
    return PydanticCustomError("located", "{message}", {"message": message, "at": at})


class Strict(BaseModel):
    """Base: unknown keys are errors, values are not coerced across types."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --- fields: deployment parameters and trigger input schemas ---------------------


class FieldType(StrEnum):
    string = "string"
    text = "text"
    number = "number"
    boolean = "boolean"
    date = "date"
    select = "select"
    multiselect = "multiselect"
    radio = "radio"
    file = "file"
    array = "array"
    object = "object"
    objectArray = "objectArray"
    section = "section"


class Option(Strict):
    value: str
    label: str | None = None


class InputField(Strict):
    """One field of a form or parameter schema."""

    type: FieldType
    label: str | None = None
    description: str | None = None
    required: bool = False
    default: Any = None
    options: list[Option] | None = Field(
        default=None, description="Choices, for select, multiselect and radio."
    )
    items: InputField | None = Field(default=None, description="Element type, for array.")
    fields: dict[str, InputField] | None = Field(
        default=None, description="Members, for object, objectArray and section."
    )

    @model_validator(mode="after")
    def _shape(self) -> InputField:
        choice = self.type in (FieldType.select, FieldType.multiselect, FieldType.radio)
        if choice and not self.options:
            raise located(f"a {self.type.value} field needs 'options'", "options")
        if self.options and not choice:
            raise located(f"'options' only applies to select, multiselect and radio, "
                          f"not {self.type.value}", "options")
        nested = self.type in (FieldType.object, FieldType.objectArray, FieldType.section)
        if self.fields is not None and not nested:
            raise located(f"'fields' only applies to object, objectArray and section, "
                          f"not {self.type.value}", "fields")
        if self.items is not None and self.type is not FieldType.array:
            raise located("'items' only applies to array fields", "items")
        if self.default is not None and not value_fits(self, self.default):
            raise located(f"default {self.default!r} is not a valid {self.type.value}",
                          "default")
        return self


def value_fits(spec: InputField, value: Any) -> bool:
    """Whether a parameter value matches its declared type (for defaults and instances)."""
    kind = spec.type
    if kind in (FieldType.string, FieldType.text, FieldType.date, FieldType.file):
        return isinstance(value, str)
    if kind is FieldType.number:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is FieldType.boolean:
        return isinstance(value, bool)
    if kind in (FieldType.select, FieldType.radio):
        return isinstance(value, str) and value in {o.value for o in spec.options or []}
    if kind is FieldType.multiselect:
        allowed = {o.value for o in spec.options or []}
        return isinstance(value, list) and all(isinstance(v, str) and v in allowed for v in value)
    if kind is FieldType.array:
        if not isinstance(value, list):
            return False
        return spec.items is None or all(value_fits(spec.items, v) for v in value)
    if kind in (FieldType.object, FieldType.section):
        return isinstance(value, dict)
    if kind is FieldType.objectArray:
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    return False


# --- triggers -----------------------------------------------------------------------


class HttpTrigger(Strict):
    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Slug of the webhook; the live path is made unique per instance.",
    )
    input_schema: dict[str, InputField] = Field(default_factory=dict)


class ScheduleTrigger(Strict):
    type: Literal["schedule"]
    cron: str = Field(description="Five-field cron expression.")
    timezone: str = "UTC"
    human_readable: str | None = None
    manual_trigger_path: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Slug of the webhook that runs the same work on demand.",
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("cron needs exactly five fields: minute hour day month weekday")
        return value


class ServiceEventTrigger(Strict):
    type: Literal["service_event"]
    service: Integration
    event_type: str = Field(min_length=1)


class SubworkflowTrigger(Strict):
    type: Literal["subworkflow"]
    input_schema: dict[str, InputField] = Field(default_factory=dict)
    called_by: list[str] = Field(default_factory=list)


class DataIngestionTrigger(Strict):
    """Documents to embed (and delete) arrive on these webhooks (the reference
    platform's RAG ingestion); the paths are made unique per instance like http's."""

    type: Literal["data_ingestion"]
    embed_path: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    delete_path: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")


Trigger = Annotated[
    HttpTrigger | ScheduleTrigger | ServiceEventTrigger | SubworkflowTrigger
    | DataIngestionTrigger,
    Field(discriminator="type"),
]


# --- the use case ------------------------------------------------------------------


class ProcessType(StrEnum):
    personal = "personal"
    organizational = "organizational"


class VisibilityLevel(StrEnum):
    private = "private"
    userList = "userList"
    teamList = "teamList"
    organizational = "organizational"
    public = "public"


class Visibility(Strict):
    level: VisibilityLevel = VisibilityLevel.private
    users: list[Slug] = Field(default_factory=list)
    teams: list[Slug] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lists(self) -> Visibility:
        if self.level is VisibilityLevel.userList and not self.users:
            raise located("visibility userList needs 'users'", "users")
        if self.level is VisibilityLevel.teamList and not self.teams:
            raise located("visibility teamList needs 'teams'", "teams")
        return self


class ProcessOwner(Strict):
    """Who owns the process: gets the automatic dev and prod instances."""

    user: Slug
    org: Slug
    parameters: dict[str, Any] = Field(default_factory=dict)


class Process(Strict):
    title: str = Field(min_length=1, max_length=120)
    subtitle: str | None = None
    description: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    icon: str | None = None
    owner: ProcessOwner
    type: ProcessType = ProcessType.personal
    visibility: Visibility = Field(default_factory=Visibility)


class WorkflowSpec(Strict):
    id: str = Field(pattern=WORKFLOW_ID, description="Template workflow id (SUBWKFL key).")
    file: str = Field(pattern=WORKFLOW_FILE)
    name: str = Field(min_length=1)
    triggers: list[Trigger] = Field(min_length=1)
    integrations: list[Integration] = Field(default_factory=list)
    output_schema: dict[str, InputField] = Field(default_factory=dict)
    cost: int = Field(default=0, ge=0, description="Cost of one run, in credits.")
    category: str | None = None


class UseCaseConfig(Strict):
    """`use-cases/<slug>/use-case.yaml`."""

    process: Process
    workflows: list[WorkflowSpec] = Field(min_length=1)
    parameters: dict[Annotated[str, Field(pattern=PARAM_NAME)], InputField] = Field(
        default_factory=dict
    )
    integrations: list[Integration] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> UseCaseConfig:
        for attr in ("id", "file"):
            seen: set[str] = set()
            for index, wf in enumerate(self.workflows):
                value = getattr(wf, attr)
                if value in seen:
                    raise located(f"workflow {attr} {value!r} is listed twice",
                                  "workflows", index, attr)
                seen.add(value)
        return self


class VersionFile(Strict):
    """`use-cases/<slug>/version.json`."""

    version: str = Field(pattern=SEMVER)


class SkillFrontMatter(BaseModel):
    """YAML front matter of `skills/<name>/SKILL.md` (camelCase kept for compatibility)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(pattern=r"^[a-z0-9-]+$", max_length=64)
    description: str = Field(min_length=1, max_length=1024)
    workflowTemplateId: str = Field(pattern=WORKFLOW_ID)


# --- instances ---------------------------------------------------------------------


class Environment(StrEnum):
    dev = "dev"
    prod = "prod"


class InstanceOwner(Strict):
    """A user (personal processes) or an org (organizational processes)."""

    user: Slug | None = None
    org: Slug | None = Field(
        default=None, description="The org; for a user, needed only if they are in several."
    )

    @model_validator(mode="after")
    def _one(self) -> InstanceOwner:
        if self.user is None and self.org is None:
            raise ValueError("owner needs 'user' or 'org'")
        return self


class SharingLevel(StrEnum):
    private = "private"
    teams = "teams"
    organization = "organization"


class Sharing(Strict):
    level: SharingLevel = SharingLevel.private
    teams: list[Slug] = Field(default_factory=list, description="For level 'teams'.")

    @model_validator(mode="after")
    def _teams(self) -> Sharing:
        if self.level is SharingLevel.teams and not self.teams:
            raise located("sharing level 'teams' needs 'teams'", "teams")
        if self.teams and self.level is not SharingLevel.teams:
            raise located(f"'teams' only applies to sharing level 'teams', "
                          f"not {self.level.value!r}", "teams")
        return self


class InstanceSpec(Strict):
    """`instances/<id>.yaml`: one desired installation; its id is the file name."""

    use_case: Slug
    owner: InstanceOwner
    environment: Environment = Environment.prod
    version: str | None = Field(
        default=None,
        pattern=SEMVER,
        description="Pin to this exact version; omit to follow the newest published.",
    )
    active: bool = True
    archived: bool = False
    sharing: Sharing = Field(default_factory=Sharing)
    parameters: dict[Annotated[str, Field(pattern=PARAM_NAME)], Any] = Field(
        default_factory=dict
    )


# --- the platform file ---------------------------------------------------------------


class User(Strict):
    id: Slug
    name: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    plan: Slug | None = Field(
        default=None, description="A personal plan: their personal instances debit it "
                                  "instead of their organization.")


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"


class Member(Strict):
    user: Slug
    role: Role = Role.member


class Team(Strict):
    id: Slug
    name: str | None = None
    members: list[Slug] = Field(default_factory=list)


class Organization(Strict):
    id: Slug
    name: str
    plan: Slug | None = Field(
        default=None, description="Its plan (free, pro, business, enterprise or one of "
                                  "`plans`); omitted: not metered.")
    members: list[Member] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)


class PlanSpec(Strict):
    """A plan: credits a month and seats (see docs/credits.md)."""

    id: Slug
    name: str | None = None
    credits: int = Field(ge=0, description="Credits per calendar month (UTC).")
    seats: int = Field(ge=1, description="Members an organization on this plan may have.")


class N8nTarget(Strict):
    """Where an environment deploys; secrets are named by env var, never written here."""

    url_env: str = Field(default="RECONCILER_N8N_URL", pattern=ENV_VAR)
    api_key_env: str = Field(default="RECONCILER_N8N_API_KEY", pattern=ENV_VAR)


class DriftMode(StrEnum):
    revert = "revert"
    report = "report"


class Defaults(Strict):
    both_environments_active: bool = Field(
        default=False, description="Keep the owner's dev and prod both active."
    )
    drift: DriftMode = DriftMode.revert
    prune: bool = Field(
        default=False, description="Delete (not only archive) workflows of removed instances."
    )
    ignore_positions: bool = Field(default=True, description="Node moves are not drift.")
    allowed_models: list[str] = Field(
        default_factory=list,
        description="AI model ids allowed beyond the built-in list (LLM-MODEL-ID); a "
                    "trailing * matches a prefix. validate and the daemon both read it.")


class SmokeOverride(Strict):
    """Publish a release whose smoke tests did not pass on dev: for emergencies only.

    Recorded in the state (a notice on the owner's prod instance) and in the report."""

    release: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}@\d+\.\d+\.\d+$",
                         description="The release tag, <use-case>@<version>.")
    reason: str = Field(min_length=1, max_length=500, description="Why, for the record.")


def _default_targets() -> dict[Literal["dev", "prod"], N8nTarget]:
    return {"dev": N8nTarget(), "prod": N8nTarget()}


class PlatformFile(Strict):
    """`platform.yaml` at the root of the repository."""

    users: list[User] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    plans: list[PlanSpec] = Field(default_factory=list, description="Custom plans; an id "
                                  "of a built-in plan redefines it.")
    targets: dict[Literal["dev", "prod"], N8nTarget] = Field(default_factory=_default_targets)
    defaults: Defaults = Field(default_factory=Defaults)
    smoke_overrides: list[SmokeOverride] = Field(
        default_factory=list, description="Releases published although their smoke tests "
        "did not pass on dev (docs/smoke-tests.md#override).")

    @model_validator(mode="after")
    def _refs(self) -> PlatformFile:
        users: set[str] = set()
        for index, user in enumerate(self.users):
            if user.id in users:
                raise located(f"user {user.id!r} is listed twice", "users", index, "id")
            users.add(user.id)
        orgs: set[str] = set()
        for o_index, org in enumerate(self.organizations):
            at: tuple[str | int, ...] = ("organizations", o_index)
            if org.id in orgs:
                raise located(f"organization {org.id!r} is listed twice", *at, "id")
            orgs.add(org.id)
            for m_index, member in enumerate(org.members):
                if member.user not in users:
                    raise located(f"organization {org.id}: member {member.user!r} "
                                  "is not a declared user", *at, "members", m_index, "user")
            names = {m.user for m in org.members}
            teams: set[str] = set()
            for t_index, team in enumerate(org.teams):
                if team.id in teams:
                    raise located(f"organization {org.id}: team {team.id!r} is listed twice",
                                  *at, "teams", t_index, "id")
                teams.add(team.id)
                for u_index, user_id in enumerate(team.members):
                    if user_id not in names:
                        raise located(f"organization {org.id}, team {team.id}: {user_id!r} "
                                      "is not a member of the organization",
                                      *at, "teams", t_index, "members", u_index)
        return self


def is_semver(text: str) -> bool:
    return re.match(SEMVER, text) is not None

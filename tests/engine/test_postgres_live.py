"""The reconcile semantics on a PostgreSQL state: a few of the SQLite suite's cases, run
again with the state in a fresh database (`RECONCILER_TEST_BACKEND=postgres` runs them all)."""

from __future__ import annotations

import pytest

from tests.engine import test_credentials_live as creds
from tests.engine import test_reconcile_live as rec
from tests.engine.conftest import Platform

pytestmark = [pytest.mark.n8n, pytest.mark.postgres,
              pytest.mark.parametrize("platform", ["postgres"], indirect=True)]


def test_first_apply_then_nothing_to_do(platform: Platform) -> None:
    rec.test_first_apply_then_nothing_to_do(platform)


def test_one_changed_workflow_costs_exactly_its_writes(platform: Platform) -> None:
    rec.test_one_changed_workflow_costs_exactly_its_writes(platform)


def test_pinned_instance_gets_one_notice(platform: Platform) -> None:
    rec.test_pinned_instance_gets_one_notice(platform)


def test_removed_instance_is_archived_and_its_record_kept(platform: Platform) -> None:
    rec.test_removed_instance_is_archived_and_its_record_kept(platform)


def test_a_changed_secret_is_rotated_in_place(platform: Platform) -> None:
    creds.test_a_changed_secret_is_rotated_in_place(platform)

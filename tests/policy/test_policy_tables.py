"""The README's role × RPC table and the guard README's field table are the services' own edge
tables, current, and complete: no RPC without its roles, no request field without its rule."""
import importlib.util
from pathlib import Path

import pytest

from ot_runtime.access import unlisted_methods
from ot_runtime.fields import unruled_fields

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "policy_tables.py"
spec = importlib.util.spec_from_file_location("policy_tables", SCRIPT)
policy_tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(policy_tables)


@pytest.mark.parametrize("name,edge", list(policy_tables.edges()), ids=policy_tables.SERVICES)
def test_every_rpc_has_its_roles_and_every_request_field_its_rule(name, edge):
    assert unlisted_methods(edge.SERVICE, edge.ACCESS) == []
    assert unruled_fields(edge.SERVICE, edge.FIELD_RULES) == []


def test_the_readme_tables_are_generated_from_the_edge_tables():
    assert policy_tables.main(["--check"]) == 0, "run: .venv/bin/python scripts/policy_tables.py"


def test_the_check_notices_a_table_that_was_edited_by_hand(tmp_path):
    text = "before\n<!-- roles:begin -->\n| stale |\n<!-- roles:end -->\nafter\n"
    fresh = policy_tables.render(text, "roles", policy_tables.roles_table())
    assert fresh != text and "| stale |" not in fresh and fresh.startswith("before\n")

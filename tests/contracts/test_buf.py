"""buf lint and buf breaking: the current protos pass both, and a change that would break a released
client fails with buf's own message (the same command `scripts/contract_tools.sh check` runs in CI)."""
from __future__ import annotations

import pytest

from contracts_testkit import RELEASED, REPO, edit, run_buf

INTAKE = "proto/ot/intake/v1/intake.proto"
EVENTS = "proto/ot/events/v1/intake_events.proto"


def breaking(buf_bin, where):
    return run_buf(buf_bin, where, "breaking", "--against", str(RELEASED))


def test_the_current_protos_pass_lint_and_keep_the_released_contract(buf_bin):
    lint = run_buf(buf_bin, REPO, "lint")
    assert lint.returncode == 0, lint.output
    kept = breaking(buf_bin, REPO)
    assert kept.returncode == 0, kept.output


def test_the_copy_passes_unchanged_so_each_failure_below_is_the_edit(buf_bin, scratch):
    assert breaking(buf_bin, scratch).returncode == 0


@pytest.mark.parametrize("file,old,new,message", [
    (INTAKE, "  string question = 5;                // the question to the OT team\n", "",
     'Previously present field "5" with name "question" on message "SubmitRequestRequest" was deleted.'),
    (INTAKE, "  string question = 5;", "  string question = 11;",
     'Previously present field "5" with name "question" on message "SubmitRequestRequest" was deleted.'),
    (INTAKE, "  int32 capacity = 3;                 // cases the meeting can take",
     "  int64 capacity = 3;                 // cases the meeting can take",
     'Field "3" with name "capacity" on message "PublishMeetingRequest" changed type from "int32" to "int64".'),
    (EVENTS, "  string request_id = 1;\n  // The wellbeing area.\n  string tenant = 2;\n  // Which of the three",
     "  string request_id = 1;\n  // The wellbeing area.\n  string area = 2;\n  // Which of the three",
     'Field "2" on message "RequestSubmitted" changed name from "tenant" to "area".'),
], ids=["field removed", "field renumbered", "field type changed", "event field renamed"])
def test_a_breaking_change_fails_with_bufs_message(buf_bin, scratch, file, old, new, message):
    edit(scratch / file, old, new)
    result = breaking(buf_bin, scratch)
    assert result.returncode != 0
    assert message in result.output, result.output


def test_an_added_field_is_not_breaking(buf_bin, scratch):
    edit(scratch / INTAKE, "  bool validate_only = 10;\n}",
         "  bool validate_only = 10;\n  // Where the professional heard of the service.\n  string referral = 11;\n}")
    result = breaking(buf_bin, scratch)
    assert result.returncode == 0, result.output


def test_lint_refuses_a_badly_named_field_and_an_undocumented_message(buf_bin, scratch):
    edit(scratch / INTAKE, "  bool validate_only = 10;\n}",
         "  bool validate_only = 10;\n  // Camel case.\n  string referralSource = 11;\n}\n\nmessage Undocumented {}")
    result = run_buf(buf_bin, scratch, "lint")
    assert result.returncode != 0
    assert 'Field name "referralSource" should be lower_snake_case, such as "referral_source".' in result.output
    assert 'Message "Undocumented" should have a non-empty comment for documentation.' in result.output

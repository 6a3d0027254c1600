"""Who may decide a waiting step: the rule as a pure function, and where gates come from."""

from __future__ import annotations

from drkit.runbooks.approvals import Gate, gate_of, needs_signed_in_starter, refusal
from tests.unit.runbooks.fakes import runbook

BOOK = """
name: gates
steps:
  - {id: plain, action: fake.echo, with: {label: x}}
  - id: anyone
    manual: {prompt: ok?}
  - id: listed
    action: manual
    with: {prompt: ok?, approvers: [alice, bob], not_by_starter: true}
"""


def test_gates_come_from_manual_blocks_and_manual_actions() -> None:
    book = runbook(BOOK)
    assert gate_of(book.step("plain")) is None
    assert gate_of(book.step("anyone")) == Gate(None, False)
    assert gate_of(book.step("listed")) == Gate(("alice", "bob"), True)
    assert needs_signed_in_starter(book)
    assert not needs_signed_in_starter(runbook(BOOK.split("  - id: listed")[0]))


def test_the_permission_the_list_and_the_starter_rule_each_refuse() -> None:
    gate = Gate(("alice", "bob"), not_by_starter=True)
    assert refusal(gate, "bob", may_approve=True, starter="alice") is None
    assert "approve permission" in str(refusal(gate, "bob", may_approve=False, starter=None))
    assert "not an approver" in str(refusal(gate, "carol", may_approve=True, starter=None))
    assert "started the run" in str(refusal(gate, "alice", may_approve=True, starter="alice"))
    assert refusal(Gate(None), "alice", may_approve=True, starter="alice") is None

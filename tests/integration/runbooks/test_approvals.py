# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""Approvals name a signed-in drkit user: the real CLI, a real catalog, real users and tokens.

A refused approver (wrong password; revoked, expired or too narrow token; no approve
permission; the starter where the step says not_by_starter) ends with exit 65 and
decides nothing; every attempt is in the audit log and the run's approvals by name.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from drkit.catalog.types import utcnow
from drkit.runbooks import requests
from drkit.users import Permission, Role
from drkit.users.audit import entries
from drkit.users.passwords import hash_password
from drkit.users.store import add_user
from drkit.users.tables import ApiTokenRow
from drkit.users.tokens import issue_token, revoke_token
from tests.integration.runbooks.cli import Drkit, drkit_cli, wait_until  # noqa: F401

PASSWORD = "correct horse battery"

GATED = """
name: gated
steps:
  - id: go
    manual: {prompt: "Restore over production?", timeout: 120}
  - id: after
    action: shell
    with: {command: "echo approved by ${{ steps.go.outputs.approved_by }}"}
"""

FOUR_EYES = GATED.replace("timeout: 120}", "timeout: 120, not_by_starter: true}").replace(
    "name: gated", "name: four-eyes"
)


def _users(drkit_cli: Drkit) -> dict[str, str]:
    """alice and bob (operators), carol (viewer); tokens by what they test."""
    now = utcnow()
    with drkit_cli.catalog().session() as s:
        for name, role in (
            ("alice", Role.OPERATOR),
            ("bob", Role.OPERATOR),
            ("carol", Role.VIEWER),
        ):
            add_user(s, name, hash_password(PASSWORD), [role])
        tokens = {
            "alice": issue_token(s, "alice", "ok", None, None, now).secret,
            "bob": issue_token(s, "bob", "ok", None, None, now).secret,
            "carol": issue_token(s, "carol", "viewer", None, None, now).secret,
            "narrow": issue_token(s, "alice", "view only", [Permission.VIEW], None, now).secret,
        }
        revoked = issue_token(s, "alice", "old", None, None, now)
        revoke_token(s, revoked.token.id, now)
        tokens["revoked"] = revoked.secret
        expired = issue_token(s, "alice", "short", None, now + timedelta(days=1), now)
        s.get_one(ApiTokenRow, expired.token.id).expires_at = now - timedelta(minutes=1)
        tokens["expired"] = expired.secret
    return tokens


def _waiting(drkit_cli: Drkit) -> int | None:
    run_id = drkit_cli.latest_run()
    if run_id is None:
        return None
    steps = drkit_cli.run_view(run_id)["steps"]
    return run_id if steps and steps[-1]["status"] == "waiting" else None


def _as(drkit_cli: Drkit, token: str | None, *args: str, stdin: str | None = None) -> Any:
    return _together(drkit_cli, {"one": (token, args, stdin)})["one"]


Call = tuple[str | None, tuple[str, ...], str | None]  # token, arguments, stdin


def _together(drkit_cli: Drkit, calls: dict[str, Call]) -> dict[str, Any]:
    """Run the commands at the same time (each with its DRKIT_TOKEN), wait for all."""
    started = {}
    for what, (token, args, stdin) in calls.items():
        env = dict(drkit_cli.env) | ({"DRKIT_TOKEN": token} if token is not None else {})
        started[what] = (subprocess.Popen(
            [*_drkit(), *args], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        ), stdin)  # fmt: skip
    done = {}
    for what, (proc, stdin) in started.items():
        out, err = proc.communicate(stdin or "", timeout=120)
        done[what] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def _drkit() -> list[str]:
    import sys

    return [sys.executable, "-m", "drkit"]


def _audit(drkit_cli: Drkit) -> list[tuple[str, str, str]]:
    with drkit_cli.catalog().session() as s:
        found = entries(s, action="runbook.")
    return [(e.actor, e.outcome.value, e.detail) for e in reversed(found)]


def test_only_a_signed_in_approver_decides(drkit_cli: Drkit, tmp_path: Path) -> None:
    tokens = _users(drkit_cli)
    drkit_cli.save(tmp_path / "gated.yaml", GATED)
    runner = drkit_cli.background("runbook", "run", "gated", "--json")
    try:
        run_id = wait_until(lambda: _waiting(drkit_cli), "the manual step to wait")
        approve = ("runbook", "approve", str(run_id), "go")
        wrong = ("--user", "alice", "--password-stdin")
        refused = _together(drkit_cli, {
            "revoked": (tokens["revoked"], approve, None),
            "expired": (tokens["expired"], approve, None),
            "narrow": (tokens["narrow"], approve, None),
            "carol": (tokens["carol"], approve, None),
            "password": (None, (*approve, *wrong), "not the password\n"),
            "garbage": ("drkit_nothing", approve, None),
            "anonymous": (None, approve, None),  # no terminal, no credentials
            "by": (tokens["alice"], (*approve, "--by", "alice"), None),
        })  # fmt: skip
        anonymous, by = refused.pop("anonymous"), refused.pop("by")
        for what, done in refused.items():
            assert done.returncode == 65, (what, done.returncode, done.stderr)
            assert "refused" in done.stderr, (what, done.stderr)
        assert "revoked" in refused["revoked"].stderr and "expired" in refused["expired"].stderr
        assert "approve permission" in refused["narrow"].stderr
        assert "wrong password" in refused["password"].stderr
        assert anonymous.returncode == 2 and "DRKIT_TOKEN" in anonymous.stderr
        assert by.returncode == 2 and "--by no longer" in by.stderr
        # nothing was decided: the step still waits, no approval was sent
        assert _waiting(drkit_cli) == run_id
        assert not requests.history(drkit_cli.catalog(), run_id)

        ok = _as(drkit_cli, tokens["alice"], *approve, "--comment", "backup checked")
        assert ok.returncode == 0, ok.stderr
        assert "approved step go of run" in ok.stderr and "as alice" in ok.stderr
        runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 0
    view = drkit_cli.run_view(run_id)
    go = next(s for s in view["steps"] if s["name"] == "go")
    assert (go["status"], go["actor"]) == ("succeeded", "alice")
    after = next(s for s in view["steps"] if s["name"] == "after")
    assert "approved by alice" in after["output"]

    journal = [(a["user"], a["verdict"]) for a in view["result"]["approvals"]]
    assert journal[-1] == ("alice", "approved")  # the refusals came at once, in any order
    assert sorted(journal[:-1]) == sorted(
        [("alice", "refused")] * 4  # revoked, expired, view-only token, wrong password
        + [("carol", "refused"), ("anonymous", "refused")]
    )
    assert view["result"]["approvals"][-1]["via"].startswith("token:")
    audit = _audit(drkit_cli)
    assert sorted((actor, outcome) for actor, outcome, _ in audit) == sorted(
        (user, "denied" if verdict == "refused" else "ok") for user, verdict in journal
    )
    assert audit[-1][2] == "backup checked"
    assert any("revoked" in detail for actor, _, detail in audit if actor == "alice")


def test_the_starter_may_not_approve_a_not_by_starter_step(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    tokens = _users(drkit_cli)
    drkit_cli.save(tmp_path / "four-eyes.yaml", FOUR_EYES)
    anonymous = drkit_cli("runbook", "run", "four-eyes")
    assert anonymous.returncode == 2 and "signs in" in anonymous.stderr

    env = {**drkit_cli.env, "DRKIT_TOKEN": tokens["alice"]}
    runner = subprocess.Popen(
        [*_drkit(), "runbook", "run", "four-eyes", "--json"], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        run_id = wait_until(lambda: _waiting(drkit_cli), "the manual step to wait")
        assert drkit_cli.run_view(run_id)["result"]["started_by"] == "alice"
        approve = ("runbook", "approve", str(run_id), "go")
        own = _as(drkit_cli, tokens["alice"], *approve)
        assert own.returncode == 65 and "started the run" in own.stderr
        other = _as(drkit_cli, None, *approve, "--user", "bob", "--password-stdin",
                    stdin=PASSWORD + "\n")  # fmt: skip
        assert other.returncode == 0, other.stderr
        runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 0
    view = drkit_cli.run_view(run_id)
    assert [(a["user"], a["verdict"], a["via"]) for a in view["result"]["approvals"]] == [
        ("alice", "refused", view["result"]["approvals"][0]["via"]),
        ("bob", "approved", "password"),
    ]
    assert next(s for s in view["steps"] if s["name"] == "go")["actor"] == "bob"
    shown = drkit_cli.ok("runs", "show", str(run_id))  # the text view says the same
    assert "started by alice" in shown
    assert "step go: refused by alice" in shown and "started the run" in shown
    assert "step go: approved by bob (password)" in shown


class Terminal:
    """A drkit command on a pseudo-terminal (its controlling terminal: getpass reads there)."""

    def __init__(self, drkit_cli: Drkit, *args: str) -> None:
        import fcntl
        import os
        import termios

        self.master, slave = os.openpty()

        def controlling_tty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [*_drkit(), *args], env=drkit_cli.env, stdin=slave, stdout=slave, stderr=slave,
            preexec_fn=controlling_tty,
        )  # fmt: skip
        os.close(slave)
        self.seen = ""

    def expect(self, text: str) -> None:
        import os
        import select

        def arrived() -> bool:
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    self.seen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the command ended
                    pass
            return text in self.seen

        wait_until(arrived, f"{text!r} on the terminal (seen: {self.seen[-300:]!r})")
        self.seen = self.seen[self.seen.index(text) + len(text) :]

    def type(self, line: str) -> None:
        import os

        os.write(self.master, (line + "\n").encode())

    def wait(self) -> int:
        import os

        code = self.proc.wait(120)
        os.close(self.master)
        return code


def test_a_password_typed_at_a_terminal_signs_the_approver_in(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    _users(drkit_cli)
    drkit_cli.save(tmp_path / "gated.yaml", GATED)
    runner = drkit_cli.background("runbook", "run", "gated", "--json")
    try:
        run_id = wait_until(lambda: _waiting(drkit_cli), "the manual step to wait")
        wrong = Terminal(drkit_cli, "runbook", "approve", str(run_id), "go")
        wrong.expect("drkit user [")
        wrong.type("carol")  # a viewer: signed in, but without approve
        wrong.expect("password of carol:")
        wrong.type(PASSWORD)
        assert wrong.wait() == 65
        assert _waiting(drkit_cli) == run_id
        terminal = Terminal(drkit_cli, "runbook", "approve", str(run_id), "go", "--user", "bob")
        terminal.expect("password of bob:")
        terminal.type(PASSWORD)
        terminal.expect("as bob")
        assert terminal.wait() == 0
        runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 0
    approvals = drkit_cli.run_view(run_id)["result"]["approvals"]
    assert [(a["user"], a["verdict"], a["via"]) for a in approvals] == [
        ("carol", "refused", "password"),
        ("bob", "approved", "password"),
    ]


def test_the_run_asks_at_its_terminal_and_signs_the_answer_in(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    _users(drkit_cli)
    drkit_cli.save(tmp_path / "gated.yaml", GATED)
    terminal = Terminal(drkit_cli, "runbook", "run", "gated")
    terminal.expect("approve? [y/N]")
    terminal.type("y")
    terminal.expect("drkit user [")
    terminal.type("alice")
    terminal.expect("password of alice:")
    terminal.type("not the password")
    terminal.expect("refused")  # and the step still waits: it asks again
    terminal.expect("approve? [y/N]")
    terminal.type("y")
    terminal.expect("drkit user [")
    terminal.type("alice")
    terminal.expect("password of alice:")
    terminal.type(PASSWORD)
    assert terminal.wait() == 0
    run_id = drkit_cli.latest_run()
    assert run_id is not None
    view = drkit_cli.run_view(run_id)
    assert next(s for s in view["steps"] if s["name"] == "go")["actor"] == "alice"
    assert [(a["user"], a["verdict"]) for a in view["result"]["approvals"]] == [
        ("alice", "refused"),
        ("alice", "approved"),
    ]


def test_the_api_and_dashboard_decide_through_the_service_with_their_principal(
    drkit_cli: Drkit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the API and the dashboard call with the request's signed-in user (its session)."""
    from drkit.runbooks.errors import ApprovalRefused
    from drkit.services.runbook_approval import Principal, decide
    from drkit.services.workspace import Workspace

    drkit_cli.save(tmp_path / "gated.yaml", GATED)
    runner = drkit_cli.background("runbook", "run", "gated", "--json")
    monkeypatch.setenv("DRKIT_HOME", str(drkit_cli.home))
    workspace = Workspace()
    try:
        run_id = wait_until(lambda: _waiting(drkit_cli), "the manual step to wait")
        viewer = Principal("carol", "session", "192.0.2.7", frozenset({Permission.VIEW}))
        with pytest.raises(ApprovalRefused) as caught:
            decide(workspace, viewer, run_id, "go", approve=True)
        assert caught.value.exit_code == 65
        operator = Principal("dave", "session", "192.0.2.8", frozenset(Permission))
        decided = decide(workspace, operator, run_id, "go", approve=False, comment="not now")
        assert decided.verdict.value == "rejected"
        runner.communicate(timeout=60)
    finally:
        runner.kill()
        workspace.close()
    assert runner.returncode == 61  # the rejected step failed the run
    view = drkit_cli.run_view(run_id)
    assert "rejected by dave (not now)" in (view["error"] or "")
    with drkit_cli.catalog().session() as s:
        found = entries(s, action="runbook.")
    assert [(e.actor, e.via, e.origin, e.action, e.outcome.value) for e in found] == [
        ("dave", "session", "192.0.2.8", "runbook.reject", "ok"),
        ("carol", "session", "192.0.2.7", "runbook.approve", "denied"),
    ]


def test_a_rerun_asks_again_and_only_a_signed_in_approver_answers(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    tokens = _users(drkit_cli)
    drkit_cli.save(tmp_path / "gated.yaml", GATED)
    first = drkit_cli.background("runbook", "run", "gated", "--json")
    try:
        first_id = wait_until(lambda: _waiting(drkit_cli), "the manual step to wait")
        drkit_cli.approve(first_id, "go", "alice")
        first.communicate(timeout=60)
    finally:
        first.kill()
    # re-run from the step after the approval: the approval is asked for again
    again = drkit_cli.background("runbook", "rerun", str(first_id), "--from", "after", "--json")
    try:
        run_id = wait_until(
            lambda: (found := _waiting(drkit_cli)) != first_id and found, "the rerun to wait"
        )
        approve = ("runbook", "approve", str(run_id), "go")
        assert _as(drkit_cli, tokens["carol"], *approve).returncode == 65
        assert _as(drkit_cli, tokens["bob"], *approve).returncode == 0
        again.communicate(timeout=60)
    finally:
        again.kill()
    assert again.returncode == 0
    view = drkit_cli.run_view(run_id)
    assert view["result"]["rerun_of"] == first_id
    assert [(a["user"], a["verdict"]) for a in view["result"]["approvals"]] == [
        ("carol", "refused"),
        ("bob", "approved"),
    ]
    assert next(s for s in view["steps"] if s["name"] == "go")["actor"] == "bob"


def test_a_stale_token_blocks_only_a_start_that_needs_the_starter(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    tokens = _users(drkit_cli)
    drkit_cli.save(tmp_path / "plain.yaml", "name: plain\nsteps:\n  - {id: a, action: shell, "
                   "with: {command: 'true'}}\n")  # fmt: skip
    drkit_cli.save(tmp_path / "four-eyes.yaml", FOUR_EYES)
    done = _together(drkit_cli, {
        "plain": (tokens["revoked"], ("runbook", "run", "plain"), None),
        "four-eyes": (tokens["revoked"], ("runbook", "run", "four-eyes"), None),
    })  # fmt: skip
    assert done["plain"].returncode == 0 and "not signed in" in done["plain"].stderr
    assert done["four-eyes"].returncode == 50 and "revoked" in done["four-eyes"].stderr

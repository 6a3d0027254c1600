"""Approving or rejecting a waiting runbook step, or cancelling a run, as a signed-in user.

Every face decides through :func:`decide` with a principal it signed in: the
CLI with a token or a password (:func:`sign_in`), the API and the dashboard
with the request's token or session. The principal needs the ``approve``
permission and must pass the step's own rules (``approvers``,
``not_by_starter``); otherwise nothing is decided and
:class:`~drkit.runbooks.errors.ApprovalRefused` (exit 65) goes to the face.
Every decision and every refusal, a failed sign-in included, is one audit
entry (``runbook.approve`` / ``runbook.reject``) and one entry in the run's
``approvals``, both naming the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn, Protocol

from drkit.catalog.runs import RunStatus, get_run
from drkit.catalog.types import utcnow
from drkit.runbooks import requests, versions
from drkit.runbooks.approvals import DecisionRecord, Gate, Verdict, gate_of, record, refusal
from drkit.runbooks.approvals import starter as run_starter
from drkit.runbooks.errors import ApprovalRefused, RunbookError
from drkit.runbooks.journal import records
from drkit.runbooks.service import KINDS
from drkit.runbooks.service import cancel as cancel_run
from drkit.services.audit import Actor, audit
from drkit.services.workspace import Workspace
from drkit.users.audit import Outcome
from drkit.users.errors import NotAuthenticated, NotPermitted
from drkit.users.model import Permission
from drkit.users.store import authenticate
from drkit.users.tokens import authenticate_token, find_token


class SignedIn(Protocol):
    """An authenticated caller: the API's Principal is one, and so is :class:`Principal`."""

    @property
    def user(self) -> str: ...
    @property
    def via(self) -> str: ...  # token:ID, password, session
    @property
    def origin(self) -> str: ...  # the client's address, or host:NAME for the CLI
    @property
    def permissions(self) -> frozenset[Permission]: ...


@dataclass(frozen=True)
class Principal:
    """A user signed in by :func:`sign_in`, with what they may do now."""

    user: str
    via: str
    origin: str
    permissions: frozenset[Permission]


@dataclass(frozen=True)
class TokenCredentials:
    token: str = field(repr=False)


@dataclass(frozen=True)
class PasswordCredentials:
    user: str
    password: str = field(repr=False)


Credentials = TokenCredentials | PasswordCredentials


class SignInFailed(NotAuthenticated):
    """A failed sign-in, naming whom it claimed to be (a token's user, a password's name)."""

    def __init__(self, message: str, *, claimed: str, via: str) -> None:
        super().__init__(message, hint="check the token or the password; an admin can issue "
                         "a new token with `drkit user token add NAME`")  # fmt: skip
        self.claimed = claimed
        self.via = via


def sign_in(workspace: Workspace, credentials: Credentials, origin: str) -> Principal:
    """The user the credentials prove, with their permissions now; SignInFailed otherwise."""
    now = utcnow()
    with workspace.catalog().session() as s:
        if isinstance(credentials, PasswordCredentials):
            user = authenticate(s, credentials.user, credentials.password)
            if user is None:
                raise SignInFailed(
                    f"wrong password for user {credentials.user!r} (or no such user)",
                    claimed=credentials.user,
                    via="password",
                )
            return Principal(user.name, "password", origin, user.effective)
        token = find_token(s, credentials.token)
        if token is None:
            raise SignInFailed("the token is not a drkit token", claimed="anonymous", via="token")
        holder = authenticate_token(s, credentials.token, now)
        if holder is None:
            raise SignInFailed(
                f"the token {token.id} of {token.user!r} is {token.state(now)}",
                claimed=token.user,
                via=f"token:{token.id}",
            )
        return Principal(holder.user, f"token:{holder.token_id}", origin, holder.permissions)


def decide(
    workspace: Workspace,
    principal: SignedIn,
    run_id: int,
    step: str,
    *,
    approve: bool,
    comment: str = "",
) -> DecisionRecord:
    """Approve (or reject) the waiting ``step`` of run ``run_id`` as ``principal``.

    RunbookError (60) when the step is not waiting; ApprovalRefused (65), audited
    and journaled, when the principal may not decide it.
    """
    gate, starter = _waiting_gate(workspace, run_id, step)
    may = Permission.APPROVE in principal.permissions
    reason = refusal(gate, principal.user, may_approve=may, starter=starter)
    if reason is not None:
        _refuse(workspace, principal.user, principal.via, principal.origin, run_id, step,
                reason, approve=approve)  # fmt: skip
    verdict = Verdict.APPROVED if approve else Verdict.REJECTED
    kind = requests.RequestKind.APPROVE if approve else requests.RequestKind.REJECT
    catalog = workspace.catalog()
    requests.send(catalog, run_id, kind, actor=principal.user, step=step, comment=comment)
    entry = DecisionRecord(step, principal.user, principal.via, verdict, utcnow(), comment=comment)
    record(catalog, run_id, entry)
    actor = Actor(principal.user, principal.via, principal.origin)
    audit(workspace, actor, _action(approve), _target(run_id, step), Outcome.OK, comment)
    return entry


def cancel(workspace: Workspace, principal: SignedIn, run_id: int) -> str:
    """Ask run ``run_id`` to stop, as ``principal`` (who needs the ``runbooks`` permission).

    The cancel names the user in the run's request and error and in the audit
    (``runbook.cancel``); a principal without the permission is refused, audited.
    """
    actor = Actor(principal.user, principal.via, principal.origin)
    target = f"run {run_id}"
    if Permission.RUNBOOKS not in principal.permissions:
        reason = f"user {principal.user!r} does not have the runbooks permission"
        audit(workspace, actor, "runbook.cancel", target, Outcome.DENIED, reason)
        raise NotPermitted(f"cancel of run {run_id} refused: {reason}")
    said = cancel_run(workspace.catalog(), run_id, principal.user)
    audit(workspace, actor, "runbook.cancel", target, Outcome.OK, said)
    return said


def cancel_with(workspace: Workspace, credentials: Credentials, origin: str, run_id: int) -> str:
    """:func:`cancel` after signing in; a failed sign-in is audited as denied."""
    try:
        principal = sign_in(workspace, credentials, origin)
    except SignInFailed as exc:
        actor = Actor(exc.claimed, exc.via, origin)
        audit(workspace, actor, "runbook.cancel", f"run {run_id}", Outcome.DENIED, exc.message)
        raise
    return cancel(workspace, principal, run_id)


def decide_with(
    workspace: Workspace,
    credentials: Credentials,
    origin: str,
    run_id: int,
    step: str,
    *,
    approve: bool,
    comment: str = "",
) -> DecisionRecord:
    """:func:`decide` after signing in; a failed sign-in is a refused approver too."""
    _waiting_gate(workspace, run_id, step)  # a step that waits for nobody says so first
    try:
        principal = sign_in(workspace, credentials, origin)
    except SignInFailed as exc:
        _refuse(workspace, exc.claimed, exc.via, origin, run_id, step, exc.message,
                approve=approve)  # fmt: skip
    return decide(workspace, principal, run_id, step, approve=approve, comment=comment)


def _waiting_gate(workspace: Workspace, run_id: int, step: str) -> tuple[Gate, str | None]:
    catalog = workspace.catalog()
    view = get_run(catalog, run_id)
    if view.kind not in KINDS:
        raise RunbookError(
            f"run {run_id} is a {view.kind} run, not a runbook run",
            hint="`drkit runs --kind runbook` lists runbook runs",
        )
    waiting = [r for r in records(catalog, run_id) if r.step == step]
    if view.status is not RunStatus.RUNNING or not waiting or waiting[-1].status != "waiting":
        state = waiting[-1].status.value if waiting else "not started"
        raise RunbookError(
            f"step {step!r} of run {run_id} is not waiting for an approval ({state})",
            hint=f"`drkit runs show {run_id}` shows the run's steps",
        )
    book = versions.load_version(catalog, view.subject, view.subject_version or "").runbook
    gate = gate_of(book.step(step)) or Gate(None)
    return gate, run_starter(view.result)


def _refuse(
    workspace: Workspace,
    user: str,
    via: str,
    origin: str,
    run_id: int,
    step: str,
    reason: str,
    *,
    approve: bool,
) -> NoReturn:
    """Journal and audit the refusal, then raise it: nothing was decided."""
    entry = DecisionRecord(step, user, via, Verdict.REFUSED, utcnow(), reason=reason)
    record(workspace.catalog(), run_id, entry)
    actor = Actor(user, via, origin)
    audit(workspace, actor, _action(approve), _target(run_id, step), Outcome.DENIED, reason)
    raise ApprovalRefused(f"{_action(approve).split('.')[1]} of step {step!r} of run "
                          f"{run_id} refused: {reason}")  # fmt: skip


def _action(approve: bool) -> str:
    return "runbook.approve" if approve else "runbook.reject"


def _target(run_id: int, step: str) -> str:
    return f"run {run_id} step {step}"

"""The lease loop in `drkit serve`: renew (or take) the lease every loop, decide the role.

One thread asks the store every ``loop_interval_s`` and keeps the latest
:class:`RoleDecision`; the scheduler asks :meth:`LeaseKeeper.may_start`
before it starts a job, which also checks the trust horizon against the
clock, so a serve frozen past its lease (SIGSTOP, a VM pause) starts nothing
when it wakes, even before its loop has run again. A role change is logged
with its sentence and handed to ``on_change`` (the service marks running
jobs and wakes the scheduler). The loop never dies of one bad cycle.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from drkit.controlplane.decide import LeaseLook, Role, RoleDecision, decide_role
from drkit.controlplane.store import Holding, LeaseStore, LeaseUnavailable

log = logging.getLogger(__name__)

OnChange = Callable[[RoleDecision, RoleDecision], None]


class LeaseKeeper:
    def __init__(
        self,
        store: LeaseStore,
        name: str,
        *,
        ttl_s: float,
        margin_s: float,
        interval_s: float,
        on_change: OnChange | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.name = name
        self.ttl_s = ttl_s
        self.margin_s = margin_s
        self.interval_s = interval_s
        self.on_change = on_change
        self.clock = clock
        self.decision = RoleDecision(Role.FENCED, "starting: etcd not asked yet")
        self.holder: Holding = Holding(None)
        self.etcd_up = False
        self._renewed_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what the scheduler and the faces ask ---------------------------------------

    def may_start(self) -> bool:
        """True only while we hold the lease and are inside its trust horizon."""
        d = self.decision
        return (
            d.role is Role.ACTIVE and d.trusted_until is not None and self.clock() < d.trusted_until
        )

    def role(self) -> Role:
        """The role now: an active decision whose trust ran out counts as fenced."""
        if self.decision.role is Role.ACTIVE and not self.may_start():
            return Role.FENCED
        return self.decision.role

    def reason(self) -> str:
        if self.decision.role is Role.ACTIVE and not self.may_start():
            return "the lease was not renewed in time: starting no job"
        return self.decision.reason

    def trusted_for_s(self) -> float:
        until = self.decision.trusted_until
        return max(0.0, until - self.clock()) if until is not None and self.may_start() else 0.0

    # --- the loop ---------------------------------------------------------------------

    def cycle(self) -> RoleDecision:
        """Ask the store once, decide, and report a change."""
        sent = self.clock()
        error: str | None = None
        try:
            holding = self.store.take(self.name)
        except LeaseUnavailable as exc:
            holding, error = Holding(None), exc.message
        except Exception as exc:  # a loop never dies of one bad cycle
            log.exception("control-plane lease cycle failed")
            holding, error = Holding(None), f"{type(exc).__name__}: {exc}"
        self.etcd_up = error is None
        self.holder = holding
        if error is None and holding.holder == self.name:
            self._renewed_at = sent
        look = LeaseLook(
            me=self.name,
            now=self.clock(),
            ttl_s=self.ttl_s,
            margin_s=self.margin_s,
            was=self.decision.role,  # what we last decided, even if its trust ran out since
            error=error,
            holder=holding.holder,
            holder_expires_in_s=holding.expires_in_s,
            renewed_at=self._renewed_at if holding.holder == self.name else None,
        )
        return self._apply(decide_role(look))

    def _apply(self, decision: RoleDecision) -> RoleDecision:
        previous, self.decision = self.decision, decision
        if previous.role is not decision.role:
            level = logging.INFO if decision.role is not Role.FENCED else logging.WARNING
            log.log(level, "control plane: %s: %s", decision.role.value, decision.reason)
            if self.on_change is not None:
                try:
                    self.on_change(previous, decision)
                except Exception:
                    log.exception("reacting to the role change failed; going on")
        return decision

    def start(self) -> None:
        self.cycle()
        self._thread = threading.Thread(target=self._run, name="drkit-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.cycle()

    def stop(self) -> None:
        """Stop the loop and give the lease up at once, so the other serve need not wait."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5 * self.ttl_s)
        if self.decision.role is Role.ACTIVE:
            self.store.release(self.name)
        self.store.close()

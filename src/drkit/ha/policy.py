"""The fixed parameters of the decisions, taken from the ``ha:`` settings once.

Pure data, so the decision functions stay free of pydantic and of the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.settings.ha import HaSettings, fencing_budget_s


@dataclass(frozen=True)
class Policy:
    observers: dict[str, tuple[str, ...]]
    """Per site: the sites whose observations count when deciding it is down."""
    priorities: dict[str, int]
    witnesses: frozenset[str]
    lease_ttl_s: float
    fence_budget_s: float
    confirm_down_s: float
    maximum_lag: int
    synchronous: bool
    anti_flapping_s: float
    lag_alert_bytes: int = 16 * 1048576

    def quorum(self, target: str) -> int:
        """How many observers of ``target`` must agree: a strict majority of them."""
        return len(self.observers.get(target, ())) // 2 + 1


def policy_from(settings: HaSettings) -> Policy:
    t = settings.timings
    priorities = {
        n: s.database.priority for n, s in settings.sites.items() if s.database is not None
    }
    witnesses = frozenset(n for n, s in settings.sites.items() if s.database is None)
    return Policy(
        observers={n: tuple(settings.observers_of(n)) for n in settings.sites},
        priorities=priorities,
        witnesses=witnesses,
        lease_ttl_s=t.lease_ttl_s,
        fence_budget_s=fencing_budget_s(t),
        confirm_down_s=t.confirm_down_s,
        maximum_lag=settings.maximum_lag_on_failover,
        synchronous=settings.synchronous_mode,
        anti_flapping_s=settings.anti_flapping_s,
        lag_alert_bytes=settings.lag_alert_bytes,
    )

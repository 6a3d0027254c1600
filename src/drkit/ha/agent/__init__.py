"""The HA agent: a face over the ha domain (DESIGN.md), like the CLI and the daemon.

:mod:`~drkit.ha.agent.loop` is the loop (gather, decide, act), and
:mod:`~drkit.ha.agent.runtime` builds an agent from drkit.yaml and runs it
with its /metrics. Nothing in the ha domain imports this package.
"""

from drkit.ha.agent.loop import Agent, AgentTimings

__all__ = ["Agent", "AgentTimings"]

"""Recovery objectives (RPO, RTO): the parser lives with the settings that read them."""

from drkit.settings.objectives import format_objective, parse_objective

__all__ = ["format_objective", "parse_objective"]

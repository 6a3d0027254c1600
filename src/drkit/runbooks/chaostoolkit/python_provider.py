"""The ``python`` provider, run by Chaos Toolkit's own library (the ``drkit[chaos]`` extra).

A python activity names a function in an importable module (``module``,
``func``, ``arguments``), usually from a Chaos Toolkit extension package
(``chaosk8s``, ``chaosaws``...). drkit does not re-implement how chaos calls
it (argument substitution, ``configuration`` and ``secrets`` parameters):
``chaoslib.provider.python.run_python_activity`` does, so an experiment
behaves as under ``chaos run``. The function runs in the runner's process:
a step timeout cannot stop it early (as in chaos, where it runs in-process
too).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from drkit.runbooks.errors import ActionFailed

EXTRA_HINT = "pip install 'drkit[chaos]' and the experiment's extension package"


def available() -> bool:
    """Whether Chaos Toolkit's library is installed."""
    return importlib.util.find_spec("chaoslib") is not None


def run_python(activity: dict[str, Any], configuration: dict[str, Any]) -> Any:
    """The function's return value, as chaos would put it in the journal's ``output``."""
    if not available():
        raise ActionFailed("a python provider needs Chaos Toolkit's library", hint=EXTRA_HINT)
    from chaoslib.exceptions import ActivityFailed, ChaosException
    from chaoslib.provider.python import run_python_activity

    try:
        return run_python_activity(activity, dict(configuration), {})
    except ModuleNotFoundError as exc:
        raise ActionFailed(
            f"python provider module {exc.name!r} cannot be imported", hint=EXTRA_HINT
        ) from exc
    except AttributeError as exc:
        raise ActionFailed(f"python provider: {exc}") from exc
    except (ActivityFailed, ChaosException) as exc:
        raise ActionFailed(str(exc)) from exc

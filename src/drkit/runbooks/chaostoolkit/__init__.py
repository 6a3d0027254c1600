"""Chaos Toolkit experiments run as drkit runbooks, and their journals in Chaos Toolkit's format.

An experiment (its JSON or YAML file) is mapped onto runbook steps
(:mod:`.mapping`): the steady-state hypothesis probes before the method,
the method's actions and probes, the hypothesis again after, and the
rollbacks, each as a ``chaostoolkit.activity`` step (:mod:`.activity`). It
then runs on drkit's runner, so it is journaled, resumable and timed like
any runbook; :mod:`.journal` turns the run back into Chaos Toolkit's journal
(status, deviated, steady states, each activity's output and timings).
"""

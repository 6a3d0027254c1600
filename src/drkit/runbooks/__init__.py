"""DR runbooks: versioned YAML procedures, their runner and journal, guides, drills and stats.

A runbook is a list of typed steps (an action and its ``with:`` arguments)
with timeouts, retries, failure policy, rollback and manual approval. The
runner writes the journal to the catalog step by step, so a killed run
resumes where it stopped.
"""

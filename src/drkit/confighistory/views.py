"""Versions, diffs and reports as JSON-ready documents (``--json``, and the API later).

Like every output, these hold redacted text only: diffs come from
:mod:`.compare`, and reports name files and versions, never contents.
"""

from __future__ import annotations

from typing import Any

from drkit.confighistory.collect.runner import CollectFailure
from drkit.confighistory.diff import TextDiff
from drkit.confighistory.jobs import CollectionResult
from drkit.confighistory.log_view import version_doc as version_doc
from drkit.confighistory.mirror import PushResult
from drkit.confighistory.restore import RestoredItem, RestorePlan
from drkit.confighistory.structured import KeyDiff


def text_diff_doc(diff: TextDiff) -> dict[str, Any]:
    added, removed = diff.stats
    return {
        "old": diff.old_label,
        "new": diff.new_label,
        "changed": diff.changed,
        "binary": diff.binary,
        "added": added,
        "removed": removed,
        "hunks": [
            {
                "header": h.header,
                "lines": [
                    {
                        "kind": line.kind.name.lower(),
                        "old": line.old_no,
                        "new": line.new_no,
                        "text": line.text,
                    }
                    for line in h.lines
                ],
            }
            for h in diff.hunks
        ],
    }


def key_diff_doc(diff: KeyDiff) -> dict[str, Any]:
    return {
        "old": diff.old_label,
        "new": diff.new_label,
        "changed": diff.changed,
        "keys": [
            {"key": r.path, "change": r.change.value, "old": r.old, "new": r.new} for r in diff.rows
        ],
    }


def failure_doc(f: CollectFailure) -> dict[str, Any]:
    return {"source": f.source, "host": f.host, "path": f.path, "error": f.error}


def push_doc(p: PushResult) -> dict[str, Any]:
    return {
        "repository": p.repository,
        "snapshot": p.snapshot,
        "versions": p.versions,
        "skipped": p.skipped,
    }


def collection_doc(result: CollectionResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "drkit_version": result.drkit_version,
        "sources": [
            {
                "name": report.source,
                "files": [
                    {
                        "name": f.scope.display,
                        "scope": str(f.scope),
                        "status": f.status.value,
                        "version": f.version,
                        "size": f.size,
                    }
                    for f in report.files
                ],
                "failures": [failure_doc(f) for f in report.failures],
            }
            for report in result.sources
        ],
        "removed": result.removed,
        "pushes": [push_doc(p) for p in result.pushes],
        "failures": [failure_doc(f) for f in result.failures],
    }


def restore_doc(plan: RestorePlan, done: list[RestoredItem], *, applied: bool) -> dict[str, Any]:
    return {
        "at": plan.at.isoformat(),
        "applied": applied,
        "items": [
            {
                "scope": str(item.scope),
                "name": item.scope.display,
                "status": item.status.value,
                "target": item.target.id if item.target else None,
                "diff": text_diff_doc(item.diff) if item.diff else None,
            }
            for item in plan.items
        ],
        "restored": [
            {"scope": str(d.scope), "target": d.target, "safety": d.safety, "restored": d.restored}
            for d in done
        ],
    }

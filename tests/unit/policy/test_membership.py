"""One rule for which snapshots belong to a policy (forget, RPO monitor, drills)."""

from __future__ import annotations

import pytest

from drkit.policy.membership import belongs_to_policy, policy_tag


def test_the_policy_tag() -> None:
    assert policy_tag("web") == "policy:web"


@pytest.mark.parametrize(
    ("tags", "paths", "policy_paths", "belongs"),
    [
        (["policy:web"], ["/srv"], ["/srv"], True),
        (["policy:web"], ["postgres:main"], [], True),  # database sources: by tag alone
        (["policy:db"], ["/srv"], ["/etc"], False),  # another policy's tag, other paths
        ([], ["/srv", "/etc"], ["/etc", "/srv"], True),  # untagged, exactly the policy's paths
        ([], ["/srv"], ["/srv", "/etc"], False),  # a subset is not the policy's
        ([], ["/srv", "/etc", "/tmp"], ["/srv", "/etc"], False),  # nor a superset
        (["policy:webapp"], ["/x"], ["/srv"], False),  # a tag is matched whole
    ],
)
def test_membership(
    tags: list[str], paths: list[str], policy_paths: list[str], belongs: bool
) -> None:
    assert belongs_to_policy("web", tags, paths, policy_paths) is belongs

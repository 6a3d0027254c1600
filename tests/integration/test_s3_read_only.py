"""An S3 key that may read but not write: the repository is read-only, as a read-only
local folder is (StorageReadOnly, exit 15), and restore and check still work.

moto runs with IAM enforced (``INITIAL_NO_AUTH_ACTION_COUNT``): the first few
requests set up a writer and a reader user, every later one is checked
against their policies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import Result, make_sample_tree, tree_digest
from tests.fixtures.s3 import FAKE_AWS_ENV, _wait_ready, free_port

SETUP_REQUESTS = 6  # create_user x2, put_user_policy x2, create_access_key x2
READ_ONLY = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:HeadObject"]


def _policy(actions: list[str] | str) -> str:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def iam_moto(tmp_path: Path) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """A moto server enforcing IAM; yields its endpoint and the writer's and reader's keys."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path / "moto.log"
    env = {**FAKE_AWS_ENV, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**env, "PATH": "/usr/bin:/bin"},
        )
    try:
        _wait_ready(endpoint, proc, log)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **_keys(env))
        keys = {}
        for user, actions in (("writer", "*"), ("reader", READ_ONLY)):
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=_policy(actions))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {
                "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            }
        yield endpoint, keys
    finally:
        proc.terminate()
        proc.wait(10)


def _keys(env: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }


def test_read_only_s3_key_restores_and_checks_but_refuses_backup(
    iam_moto: tuple[str, dict[str, dict[str, str]]], drkit_env: dict[str, str], tmp_path: Path
) -> None:
    endpoint, keys = iam_moto
    url = f"s3://drkit-ro/repo?endpoint={endpoint}"

    def run(user: str, *args: str) -> Result:
        env = {**drkit_env, **FAKE_AWS_ENV, **keys[user]}
        argv = [sys.executable, "-m", "drkit", "--repo", url, *args]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        return Result(list(args), proc.returncode, proc.stdout, proc.stderr)

    src = make_sample_tree(tmp_path / "src", files=4)
    run("writer", "init").check()
    run("writer", "backup", str(src)).check()

    refused = run("reader", "backup", str(src))
    assert refused.returncode == 15, refused.stderr
    assert "read-only" in refused.stderr and "access denied" in refused.stderr
    assert "Traceback" not in refused.stderr

    checked = run("reader", "check", "--read-data").check()
    assert "without a lock" in checked.stderr
    out = tmp_path / "out"
    run("reader", "restore", "latest", "--target", str(out)).check()
    assert tree_digest(out / str(src).lstrip("/")) == tree_digest(src)

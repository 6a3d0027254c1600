"""Shared fixtures: a drkit CLI runner, a fresh repository, and sample trees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.fixtures")  # asserts in fixtures explain themselves
pytest_plugins = [
    "tests.fixtures.damage",
    "tests.fixtures.databases",
    "tests.fixtures.etcd",
    "tests.fixtures.ha",
    "tests.fixtures.haproxy",
    "tests.fixtures.pgcluster",
    "tests.fixtures.receivers",
    "tests.fixtures.s3",
    "tests.fixtures.sshd",
]
"""The fixture modules: every test may ask for their fixtures by name, no import needed."""

# A cheaper KDF keeps hundreds of repository opens fast; the format is unchanged.
os.environ.setdefault("DRKIT_KDF_MEMORY_KIB", "8192")

# A suite started in the background (`cmd &`, nohup) inherits SIGINT ignored, and so
# would every drkit child, which then rightly keeps ignoring it; the interrupt tests
# send SIGINT as a terminal would, so the children start with the default disposition.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def check(self) -> Result:
        assert self.returncode == 0, (
            f"drkit {' '.join(self.args)} exited {self.returncode}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )
        return self


Runner = Callable[..., Result]


@pytest.fixture
def drkit_env(tmp_path: Path) -> dict[str, str]:
    """Environment for drkit child processes: passphrase, cache and home in tmp_path."""
    env = dict(os.environ)
    env.update(
        DRKIT_PASSWORD="correct horse battery staple",
        DRKIT_CACHE_DIR=str(tmp_path / "cache"),
        DRKIT_HOME=str(tmp_path / "home"),
        DRKIT_KDF_MEMORY_KIB="8192",
        COLUMNS="200",
    )
    env.pop("DRKIT_REPO", None)
    env.pop("DRKIT_CONFIG", None)
    return env


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    return tmp_path / "repo"


@pytest.fixture
def drkit(drkit_env: dict[str, str], repo_dir: Path) -> Runner:
    """Run ``drkit --repo <repo_dir> ARGS...`` in a child process."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        repo: Path | None = None,
        timeout: float = 300,
        input: str | None = None,
    ) -> Result:
        argv = ["--repo", str(repo or repo_dir), *args]
        proc = subprocess.run(
            [sys.executable, "-m", "drkit", *argv],
            env={**drkit_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            check=False,
        )
        return Result(argv, proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def initialized(drkit: Runner) -> Runner:
    """A runner whose repository already exists."""
    drkit("init").check()
    return drkit


def make_sample_tree(root: Path, *, seed: int = 1, files: int = 30) -> Path:
    """A small tree with text, random data, an empty file, a symlink and a hard link."""
    import random

    rnd = random.Random(seed)
    (root / "docs" / "deep").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    for i in range(files):
        words = " ".join(rnd.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(200))
        (root / "docs" / f"note{i}.txt").write_text(f"{i} {words}\n")
    (root / "docs" / "deep" / "leaf.txt").write_text("leaf\n")
    (root / "data" / "random.bin").write_bytes(rnd.randbytes(3 * 1024 * 1024 + 17))
    (root / "data" / "empty").write_bytes(b"")
    (root / "link").symlink_to("docs/deep/leaf.txt")
    os.link(root / "docs" / "deep" / "leaf.txt", root / "hardlink.txt")
    return root


def make_data_tree(root: Path, seed: int, mib: int, *, text_every: int = 0) -> Path:
    """About ``mib`` MiB of random files (256 KiB-2 MiB) in five folders.

    With ``text_every=N`` every N-th file is compressible text instead.
    """
    import random

    rnd = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    budget, i = mib * 1024 * 1024, 0
    while budget > 0:
        folder = root / f"d{i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        if text_every and i % text_every == text_every - 1:
            text = f"{seed} {i} " + " ".join(rnd.choices(words, k=100_000)) + "\n"
            (folder / f"text{i}.txt").write_text(text)
            budget -= len(text)
        else:
            size = rnd.randrange(256 * 1024, 2 * 1024 * 1024)
            (folder / f"blob{seed}-{i}.bin").write_bytes(rnd.randbytes(size))
            budget -= size
        i += 1
    return root


def policy_settings(tmp_path: Path, src: Path) -> Path:
    """drkit.yaml with repositories nas (disk, office) and cloud (object, aws), each with its
    own passphrase file, and a policy `app` backing up ``src`` into both (RPO 1d)."""
    for name, pw in (("nas", "nas-pass"), ("cloud", "cloud-pass")):
        (tmp_path / f"{name}.pw").write_text(pw)
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(f"""\
version: 1
repositories:
  nas: {{url: {tmp_path / "nas"}, media: disk, site: office, password_file: {tmp_path / "nas.pw"}}}
  cloud: {{url: {tmp_path / "cloud"}, media: object, site: aws,
          password_file: {tmp_path / "cloud.pw"}}}
policies:
  app:
    sources: [{src}]
    repositories: [nas, cloud]
    rpo: 1d
    site: office
""")
    return cfg


@contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``where``: writing past it fails with ENOSPC, like a full
    disk. Needs root, as CI has; a developer without root sees why the test fails."""
    import subprocess

    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs to fill a disk and needs root (CI runs as root)")
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def sample_tree(tmp_path: Path) -> Path:
    return make_sample_tree(tmp_path / "src")


def tree_digest(root: Path) -> dict[str, tuple[str, int, str]]:
    """Relative path -> (kind, mode, content hash or link target), for comparing trees."""
    import hashlib

    out: dict[str, tuple[str, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", 0, os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", st.st_mode & 0o7777, "")
            else:
                out[rel] = ("file", st.st_mode & 0o7777, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


@pytest.fixture
def restored(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "restored"
    yield path

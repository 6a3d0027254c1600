"""Step journal (timing, hooks that cannot break a run) and the scratch space."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from drkit.errors import StorageError
from drkit.verify.errors import ScratchUnavailable
from drkit.verify.scratch import make_scratch, needed_space, remove_scratch
from drkit.verify.steps import StepHooks, StepJournal, StepKind, StepResult, StepStart


def test_steps_are_reported_as_they_start_and_end() -> None:
    seen: list[str] = []

    def start(s: StepStart) -> None:
        seen.append(f"start {s.name}")

    def end(r: StepResult) -> None:
        seen.append(f"end {r.name} {r.ok}")

    journal = StepJournal(StepHooks(start, end))
    with journal.step("one", StepKind.RESTORE) as step:
        step.detail = "did it"
    with journal.step("two", StepKind.VERIFY) as step:
        step.fail("bad file")
    assert seen == ["start one", "end one True", "start two", "end two False"]
    assert [s.detail for s in journal.steps] == ["did it", ""]
    assert journal.steps[1].error == "bad file" and not journal.ok
    assert all(s.duration_s >= 0 for s in journal.steps)


def test_an_exception_fails_the_step_and_goes_on_up() -> None:
    journal = StepJournal()
    with pytest.raises(StorageError), journal.step("restore", StepKind.RESTORE):
        raise StorageError("the NAS is gone")
    [step] = journal.steps
    assert not step.ok and step.error == "the NAS is gone"


def test_an_interrupt_is_recorded() -> None:
    journal = StepJournal()
    with pytest.raises(KeyboardInterrupt), journal.step("validate", StepKind.VALIDATE):
        raise KeyboardInterrupt
    assert journal.steps[0].error == "interrupted"


def test_a_failing_hook_does_not_break_the_run() -> None:
    def broken(_: object) -> None:
        raise RuntimeError("catalog down")

    journal = StepJournal(StepHooks(broken, broken))
    with journal.step("restore", StepKind.RESTORE):
        pass
    assert journal.ok and len(journal.steps) == 1


def test_scratch_is_made_under_the_root_and_removed_even_when_read_only(tmp_path: Path) -> None:
    scratch = make_scratch(tmp_path / "root", 1024)
    assert scratch.parent == tmp_path / "root" and scratch.name.startswith("drkit-restore-test-")
    locked = scratch / "a" / "b"
    locked.mkdir(parents=True)
    (locked / "f").write_text("x")
    os.chmod(locked, 0o500)
    os.chmod(scratch / "a", 0o500)
    assert remove_scratch(scratch) == ""
    assert not scratch.exists()
    assert remove_scratch(scratch) == ""  # already gone


def test_too_little_space_fails_before_anything_is_made(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(ScratchUnavailable) as info:
        make_scratch(tmp_path / "root", free)
    assert "not enough free space" in info.value.message
    assert info.value.exit_code == 34 and "--scratch" in info.value.hint
    assert list((tmp_path / "root").iterdir()) == []


def test_needed_space_has_a_margin() -> None:
    assert needed_space(0) > 0
    assert needed_space(100 << 20) > 100 << 20


def test_an_unusable_root_is_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ScratchUnavailable) as info:
        make_scratch(tmp_path / "file" / "sub", 1)
    assert "cannot be used" in info.value.message

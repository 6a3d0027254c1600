"""pg receive-wal's pure decisions: its command line, what a failure means, what is ready."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.sources.wal_errors import ReceiveRefused, SlotMissing, StreamGap
from drkit.sources.wal_receive import (
    Failure,
    ReceiveOptions,
    ReceiverState,
    classify,
    create_slot_argv,
    metrics_text,
    receivewal_argv,
    removable,
    scan,
)
from drkit.sources.wal_receive_run import classify_exit, raise_if_fatal

OPTS = ReceiveOptions("host=db1 user=rep", Path("/var/lib/drkit/received"), "drkit", True)


def test_the_command_line_never_loops_and_names_the_slot() -> None:
    argv = receivewal_argv(OPTS)
    assert argv[:2] == ["pg_receivewal", "-D"] and "--no-loop" in argv
    assert argv[argv.index("--slot") + 1] == "drkit" and "--synchronous" in argv
    assert "application_name=drkit-receivewal" in argv[argv.index("-d") + 1]
    bare = receivewal_argv(ReceiveOptions("host=db1", Path("/r"), bin_dir=Path("/pg/bin")))
    assert bare[0] == "/pg/bin/pg_receivewal" and "--slot" not in bare
    assert "--synchronous" not in bare
    assert create_slot_argv(OPTS)[-3:] == ["drkit", "--create-slot", "--if-not-exists"]


@pytest.mark.parametrize(
    ("stderr", "failure"),
    [
        ('pg_receivewal: error: replication slot "drkit" does not exist', Failure.SLOT_MISSING),
        ('ERROR:  replication slot "drkit" is active for PID 4242', Failure.SLOT_BUSY),
        ("FATAL:  must be superuser or replication role to start walsender", Failure.REFUSED),
        ('FATAL:  no pg_hba.conf entry for replication connection from host "10.0.0.1"',
         Failure.REFUSED),
        ("FATAL:  number of requested standby connections exceeds max_wal_senders (currently 0)",
         Failure.REFUSED),
        ("ERROR:  requested WAL segment 000000010000000000000003 has already been removed",
         Failure.WAL_REMOVED),
        ('error: connection to server at "db1" failed: Connection refused', Failure.TRANSIENT),
        ("", Failure.TRANSIENT),
    ],
)  # fmt: skip
def test_each_failure_is_told_from_the_servers_words(stderr: str, failure: Failure) -> None:
    assert classify(stderr).failure is failure


def test_fatal_failures_raise_saying_what_to_do_and_transient_ones_do_not() -> None:
    gap = classify("requested WAL segment 000000010000000000000003 has already been removed")
    assert gap.segment == "000000010000000000000003"
    with pytest.raises(StreamGap, match=r"000000010000000000000003.*gap"):
        raise_if_fatal(gap, None, "db1:5432")
    with pytest.raises(SlotMissing, match="'drkit' does not exist") as missing:
        raise_if_fatal(classify('replication slot "drkit" does not exist'), "drkit", "db1:5432")
    assert missing.value.exit_code == 35 and "--create-slot" in missing.value.hint
    with pytest.raises(ReceiveRefused, match="refuses the replication connection"):
        raise_if_fatal(classify("must be superuser or replication role"), None, "db1:5432")
    killed = classify_exit(-9, "pg_receivewal: starting log streaming at 0/1000000")
    assert killed.failure is Failure.TRANSIENT and "SIGKILL" in killed.detail
    raise_if_fatal(killed, "drkit", "db1:5432")  # started again, no error


def test_the_folder_hands_off_completed_files_and_keeps_the_newest_segment() -> None:
    folder = scan([
        "000000010000000000000003", "000000010000000000000004.partial",
        "000000010000000000000001", "000000010000000000000002", "00000002.history",
        ".receiver.json", "000000010000000000000005.partial.tmp", "notes.txt",
    ])  # fmt: skip
    assert folder.completed == (
        "00000002.history",
        "000000010000000000000001",
        "000000010000000000000002",
        "000000010000000000000003",
    )
    assert folder.partial == "000000010000000000000004.partial"
    handed = {"000000010000000000000001", "000000010000000000000003", "00000002.history"}
    # 2 is not handed off yet; 3 is the newest (pg_receivewal resumes after it)
    assert removable(folder, handed) == ["000000010000000000000001"]
    assert scan([]).partial is None and removable(scan([]), set()) == []


def test_the_metrics_name_the_partial_age_and_the_lag() -> None:
    text = metrics_text(ReceiverState(running=True, partial_age_s=2.5, lag_bytes=8192))
    assert "drkit_wal_receiver_up 1" in text
    assert "drkit_wal_receiver_partial_age_seconds 2.500" in text
    assert "drkit_wal_receiver_lag_bytes 8192" in text
    assert "lag_bytes" not in metrics_text(ReceiverState())

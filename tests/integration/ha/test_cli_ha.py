"""`drkit ha status|pause|resume` against a real etcd, and its errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import Runner
from tests.fixtures.etcd import EtcdCluster
from tests.fixtures.haproxy import wait_until


def write_config(tmp_path: Path, endpoints: list[str]) -> Path:
    path = tmp_path / "drkit.yaml"
    quoted = ", ".join(f'"{e}"' for e in endpoints)
    path.write_text(
        f"""version: 1
ha:
  cluster: cli-{int(time.time() * 1000)}
  etcd: {{endpoints: [{quoted}]}}
  sites:
    east: {{database: {{host: 127.0.0.2, data_dir: /srv/a}}}}
    west: {{database: {{host: 127.0.0.3, data_dir: /srv/b, priority: 50}}}}
    witness: {{}}
  witness: witness
"""
    )
    return path


def test_status_pause_resume(drkit: Runner, etcd: EtcdCluster, tmp_path: Path) -> None:
    config = str(write_config(tmp_path, etcd.endpoints))
    status = drkit("--config", config, "ha", "status", "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["leader"] is None and shown["paused"] is None
    assert [s["site"] for s in shown["sites"]] == ["east", "west", "witness"]
    assert [s["role"] for s in shown["sites"]] == ["no agent", "no agent", "witness"]

    paused = drkit("--config", config, "ha", "pause", "--reason", "kernel upgrade", "--by", "ann")
    assert paused.returncode == 0, paused.stderr
    assert "paused by ann: kernel upgrade" in paused.stdout
    shown = json.loads(drkit("--config", config, "ha", "status", "--json").stdout)
    assert shown["paused"]["who"] == "ann" and shown["paused"]["reason"] == "kernel upgrade"
    table = drkit("--config", config, "ha", "status").stdout
    assert "paused by ann: kernel upgrade" in table and "leader none" in table

    assert "resumed" in drkit("--config", config, "ha", "resume").stdout
    assert json.loads(drkit("--config", config, "ha", "status", "--json").stdout)["paused"] is None
    assert "was not paused" in drkit("--config", config, "ha", "resume").stdout

    # the Output object: --json gives one JSON document, --quiet only what matters
    again = drkit(
        "--config", config, "ha", "pause", "--reason", "disk swap", "--by", "bo", "--json"
    )
    assert again.returncode == 0, again.stderr
    done = json.loads(again.stdout)
    assert done["message"] == "paused by bo: disk swap" and done["paused"]["who"] == "bo"
    quiet = drkit("--quiet", "--config", config, "ha", "status")
    assert quiet.returncode == 0 and "paused by bo" in quiet.stdout and "site" not in quiet.stdout
    resumed = drkit("--quiet", "--config", config, "ha", "resume")
    assert resumed.returncode == 0 and resumed.stdout == ""
    shown = json.loads(drkit("--config", config, "ha", "resume", "--json").stdout)
    assert shown == {"message": "was not paused", "lifted": None}


def test_errors_are_clear(drkit: Runner, tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text("version: 1\n")
    result = drkit("--config", str(bare), "ha", "status")
    assert result.returncode == 2
    assert "no ha: section" in result.stderr and "Traceback" not in result.stderr
    config = str(write_config(tmp_path, ["http://127.0.0.1:1"]))
    down = drkit("--config", config, "ha", "status")
    assert down.returncode != 0 and "Traceback" not in down.stderr
    assert "etcd" in down.stderr.lower() or "endpoint" in down.stderr.lower()
    unknown = drkit("--config", config, "agent", "--site", "mars")
    assert unknown.returncode == 2 and "no site 'mars'" in unknown.stderr


def test_agent_command_runs_publishes_and_stops_on_sigterm(
    drkit_env: dict[str, str], etcd: EtcdCluster, tmp_path: Path
) -> None:
    """A real agent: READY/STOPPING over sd_notify, JSON logs, it publishes, SIGTERM ends it."""
    import signal
    import socket
    import subprocess
    import sys

    from drkit.ha.build import dcs_for
    from drkit.settings import load_settings

    config = write_config(tmp_path, etcd.endpoints)
    settings = load_settings(config)
    assert settings.ha is not None
    notify_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    sock.settimeout(60)
    argv = ["--config", str(config), "agent", "--site", "witness", "--log-format", "json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "drkit", *argv],
        env={**drkit_env, "NOTIFY_SOCKET": notify_path},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dcs = dcs_for(settings.ha)
    try:
        assert sock.recv(4096).decode().startswith("READY=1\n")
        deadline = time.monotonic() + 30
        while "witness" not in dcs.read().observations:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the witness agent never published"
            time.sleep(0.2)
        targets = dcs.read().observations["witness"]["targets"]
        assert set(targets) == {"east", "west"}  # nothing listens there: both seen down soon
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert sock.recv(4096).decode().startswith("STOPPING=1\n")
        assert proc.returncode == 0, stderr
        lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
        messages = [line["message"] for line in lines]
        assert "drkit agent for site witness of cluster " + settings.ha.cluster in messages
        assert any("no action: I am a witness, I only vote" in m for m in messages)
        assert {"time", "level", "logger", "run_id", "job"} <= set(lines[0])
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
        dcs.close()


def test_override_fence_unfence_are_audited_in_etcd_and_shown(
    drkit: Runner, etcd: EtcdCluster, tmp_path: Path
) -> None:
    from drkit.ha.build import dcs_for
    from drkit.settings.model import Settings

    config_path = write_config(tmp_path, etcd.endpoints)
    config = str(config_path)
    import yaml

    ha = Settings.model_validate(yaml.safe_load(config_path.read_text())).ha
    assert ha is not None
    agents = {s: dcs_for(ha) for s in ("east", "west", "witness")}  # what running agents publish
    try:
        assert agents["east"].acquire_leader("east")
        for site, dcs in agents.items():
            others = {o: True for o in agents if o != site}
            dcs.publish(site, "reach", {"at": time.time(), "reaches": others | {"etcd": True}})
        agents["east"].publish("east", "member", {"role": "primary", "healthy": True})
        agents["west"].publish("west", "member", {"role": "replica", "healthy": True})

        asked = drkit("--config", config, "ha", "override", "--primary", "west", "--reason", "x")
        assert asked.returncode == 2  # no terminal to confirm on, nothing recorded
        assert "pass --yes" in asked.stderr and "Traceback" not in asked.stderr
        assert "east holds the lease with 3 of 3 votes" in asked.stderr  # the warning first
        shown = json.loads(drkit("--config", config, "ha", "status", "--json").stdout)
        assert shown["manual"] == {
            "override": None,
            "fenced": [],
            "audit": [],
            "missing_in_etcd": 0,
        }

        done = drkit(
            "--config", config, "ha", "override", "--primary", "west", "--for", "2h",
            "--reason", "east datacentre flooding", "--by", "alice", "--yes",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "warning" in done.stderr and "against the quorum" in done.stderr
        assert "automatic decision now: keeping the primary: east holds the lease" in done.stdout
        shown = json.loads(drkit("--config", config, "ha", "status", "--json").stdout)
        o = shown["manual"]["override"]
        assert (o["primary"], o["who"], o["reason"]) == (
            "west",
            "alice",
            "east datacentre flooding",
        )
        assert o["expires_at"] - time.time() > 7000 and "against the quorum" in o["against_quorum"]
        (audit,) = shown["manual"]["audit"]
        assert audit["action"] == "override" and audit["automatic_outcome"] == "keep-primary"
        table = drkit("--config", config, "ha", "status").stdout
        assert "override: west is the primary by alice" in table and "against the quorum" in table

        lifted = drkit(
            "--config", config, "ha", "override", "--lift", "--reason", "dry again", "--by", "bob"
        )
        assert lifted.returncode == 0, lifted.stderr
        again = drkit("--config", config, "ha", "override", "--lift", "--reason", "twice")
        assert again.returncode == 2 and "no override is in force" in again.stderr

        assert drkit("--config", config, "ha", "fence", "west", "--reason", "disk", "--yes",
                     "--by", "carol").returncode == 0  # fmt: skip
        shown = json.loads(drkit("--config", config, "ha", "status", "--json").stdout)
        assert shown["manual"]["fenced"] == ["west"] and shown["manual"]["override"] is None
        assert "fenced by hand: west" in drkit("--config", config, "ha", "status").stdout
        nope = drkit("--config", config, "ha", "unfence", "east", "--reason", "?")
        assert nope.returncode == 2 and "east is not fenced by hand" in nope.stderr
        bad = drkit("--config", config, "ha", "fence", "mars", "--reason", "?", "--yes")
        assert bad.returncode == 2 and "'mars' is not a site" in bad.stderr
        assert (
            drkit("--config", config, "ha", "unfence", "west", "--reason", "fixed").returncode == 0
        )
        drkit("--config", config, "ha", "pause", "--reason", "window", "--by", "dan")
        drkit("--config", config, "ha", "resume", "--by", "dan")

        # a new client (as after a restart) reads the whole trail back from etcd
        shown = json.loads(drkit("--config", config, "ha", "status", "--json").stdout)
        trail = [(a["action"], a["who"], a["site"]) for a in shown["manual"]["audit"]]
        assert trail == [
            ("override", "alice", "west"),
            ("lift-override", "bob", None),
            ("fence", "carol", "west"),
            ("unfence", trail[3][1], "west"),
            ("pause", "dan", None),
            ("resume", "dan", None),
        ]
        assert shown["manual"]["fenced"] == [] and shown["last_failover"] is None
    finally:
        for dcs in agents.values():
            dcs.close()


def test_manual_actions_kept_in_the_catalog_survive_an_etcd_wipe_and_an_agent_restart(
    drkit: Runner, drkit_env: dict[str, str], etcd: EtcdCluster, tmp_path: Path
) -> None:
    """etcd loses the cluster's keys: the catalog's copy still shows and restores them.

    The rule (docs/split-brain.md): the trail is the union of both copies, so the
    override, the hand fence and the pause stay in force; an agent that starts puts
    the lost entries and the pause back into etcd.
    """
    import httpx
    import yaml

    from drkit.catalog import Catalog, default_catalog_url
    from drkit.ha.agent.runtime import build_agent
    from drkit.ha.build import dcs_for
    from drkit.ha.drivers.dcs.etcd3_client import b64, prefix_end
    from drkit.settings.model import Settings

    config_path = write_config(tmp_path, etcd.endpoints)
    config = str(config_path)
    settings = Settings.model_validate(yaml.safe_load(config_path.read_text()))
    ha = settings.ha
    assert ha is not None

    def run(*args: str) -> str:
        done = drkit("--config", config, "ha", *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("override", "--primary", "west", "--reason", "east flooding", "--by", "alice", "--yes")
    run("fence", "east", "--reason", "disk errors", "--by", "carol", "--yes")
    run("pause", "--reason", "kernel upgrade", "--by", "dan")
    before = json.loads(run("status", "--json"))
    assert before["manual"]["missing_in_etcd"] == 0
    trail = [(a["action"], a["who"]) for a in before["manual"]["audit"]]
    assert trail == [("override", "alice"), ("fence", "carol"), ("pause", "dan")]

    # the catalog holds every entry too (drkit's own audit log)
    catalog = Catalog.open(default_catalog_url(Path(drkit_env["DRKIT_HOME"])))
    try:
        audit = drkit("audit", "--json")
        assert audit.returncode == 0, audit.stderr
        actions = {e["action"] for e in json.loads(audit.stdout)}
        assert {"ha.override", "ha.fence", "ha.pause"} <= actions

        # etcd loses the whole cluster prefix
        prefix = f"/drkit/{ha.cluster}/"
        body = {"key": b64(prefix), "range_end": prefix_end(prefix)}
        httpx.post(f"{etcd.endpoints[0]}/v3/kv/deleterange", json=body, timeout=5)
        dcs = dcs_for(ha)
        try:
            assert dcs.read().history == () and dcs.read().pause is None
            shown = json.loads(run("status", "--json"))
            assert shown["manual"]["missing_in_etcd"] == 3  # still shown, from the catalog
            assert shown["manual"]["override"]["primary"] == "west"
            assert shown["manual"]["fenced"] == ["east"]
            assert "etcd lacks 3 manual action(s)" in run("status")

            agent = build_agent(settings, "witness", lambda: catalog)  # an agent (re)starts
            agent.dcs.close()
            view = dcs.read()
            assert [r["action"] for r in view.history] == ["override", "fence", "pause"]
            assert view.pause is not None and view.pause["who"] == "dan"
            again = json.loads(run("status", "--json"))
            assert again["manual"]["missing_in_etcd"] == 0
            assert again["paused"]["reason"] == "kernel upgrade"
            assert again["manual"]["override"]["primary"] == "west"
            assert again["manual"]["fenced"] == ["east"]

            # lifting is recorded in both; a second restart restores nothing twice
            run("unfence", "east", "--reason", "disk replaced", "--by", "carol")
            agent = build_agent(settings, "witness", lambda: catalog)
            agent.dcs.close()
            actions_now = [r["action"] for r in dcs.read().history]
            assert actions_now == ["override", "fence", "pause", "unfence"]
            assert json.loads(run("status", "--json"))["manual"]["fenced"] == []
        finally:
            dcs.close()
    finally:
        catalog.close()


def test_status_watch_redraws_until_interrupted(
    drkit: Runner, drkit_env: dict[str, str], etcd: EtcdCluster, tmp_path: Path
) -> None:
    """`ha status --watch` shows a pause made while it runs, and Ctrl-C ends it quietly."""
    config = str(write_config(tmp_path, etcd.endpoints))
    watch = subprocess.Popen(
        [sys.executable, "-m", "drkit", "--config", config, "ha", "status", "--watch"],
        env=drkit_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(watch.stdout or ()), daemon=True)
    reader.start()

    def seen(text: str) -> bool:
        return any(text in line for line in list(lines))

    try:
        wait_until(lambda: seen("leader none"), 60, "the first redraw")
        assert not seen("paused by ann")
        drkit("--config", config, "ha", "pause", "--reason", "drill", "--by", "ann").check()
        wait_until(lambda: seen("paused by ann: drill"), 30, "a redraw showing the pause")
    finally:
        watch.send_signal(signal.SIGINT)
        code = watch.wait(timeout=30)
        reader.join(10)
    stderr = watch.stderr.read() if watch.stderr else ""
    assert code == 130, stderr
    assert "Traceback" not in stderr

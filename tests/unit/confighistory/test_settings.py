"""The config_history section of drkit.yaml: defaults, and errors reported at their line."""

from __future__ import annotations

from datetime import timedelta

from drkit.settings import load_settings
from tests.unit.settings.conftest import LoadErrors, WriteSettings, load_errors, write_settings

__all__ = ["load_errors", "write_settings"]  # fixtures used below


def test_defaults(write_settings: WriteSettings) -> None:
    ch = load_settings(write_settings("version: 1\n")).config_history
    assert ch.schedule == "0 1 * * *"  # daily
    assert ch.sources == [] and ch.inventory == {} and ch.repositories == []
    assert ch.retention.keeps_everything


def test_a_full_section(write_settings: WriteSettings) -> None:
    path = write_settings(
        """
        config_history:
          schedule: "@daily"
          repositories: [nas]
          retention: {keep_versions: 50, keep_within: 90d}
          redact_keys: ["*_pin"]
          inventory:
            web1: {address: 10.0.0.5, port: 2222, user: backup, key: ~/.ssh/drkit}
          sources:
            - name: nginx
              host: web1
              paths: [/etc/nginx/nginx.conf, /etc/nginx/conf.d/*.conf]
              ignore_lines: ['^# generated']
              redact_patterns: ['LIC-\\w+']
            - name: local-app
              paths: [/etc/app/**]
        """
    )
    ch = load_settings(path).config_history
    assert ch.schedule == "0 0 * * *"
    assert ch.retention.keep_versions == 50 and ch.retention.keep_within == timedelta(days=90)
    assert ch.inventory["web1"].port == 2222 and ch.inventory["web1"].user == "backup"
    assert [s.host for s in ch.sources] == ["web1", "local"]
    assert ch.sources[0].max_file_size == 4 * 1024 * 1024


def test_errors_name_the_line(load_errors: LoadErrors) -> None:
    problems = load_errors(
        """
        config_history:
          sources:
            - name: a
              host: nowhere
              paths: [/etc/x]
        """
    )
    assert any("nowhere" in p and "not in the inventory" in p for p in problems), problems
    bad_regex = load_errors(
        """
        config_history:
          sources:
            - name: a
              paths: [/etc/x]
              ignore_lines: ['(unclosed']
        """
    )
    assert any(":6:" in p or "not a regular expression" in p for p in bad_regex), bad_regex
    relative = load_errors(
        """
        config_history:
          sources:
            - {name: a, paths: [etc/x]}
        """
    )
    assert any("must be an absolute path" in p for p in relative), relative
    twice = load_errors(
        """
        config_history:
          sources:
            - {name: a, paths: [/x]}
            - {name: a, paths: [/y]}
        """
    )
    assert any("two sources are named 'a'" in p for p in twice), twice
    cron = load_errors("config_history:\n  schedule: often\n")
    assert any(p.startswith(":2:") and "cron" in p for p in cron), cron

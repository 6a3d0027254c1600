"""paramiko (SSH, SFTP) exceptions: keys, host keys, refused logins, dropped connections."""

from __future__ import annotations

from drkit.errors_map.base import ErrorTable, Row

PARAMIKO = ErrorTable(
    "paramiko",
    (
        Row(
            "paramiko.PasswordRequiredException",
            "{what}: the private key is encrypted and no passphrase was given",
            "give the key's passphrase, or load the key into ssh-agent",
        ),
        Row(
            "paramiko.BadHostKeyException",
            "{what}: the server's host key is not the one known ({detail})",
            "if the server was reinstalled, update known_hosts; otherwise do not connect",
        ),
        Row(
            "paramiko.AuthenticationException",
            "{what}: the login was refused ({detail})",
            "check the user and key (or password), and the server's authorized_keys",
        ),
        Row(
            "paramiko.ssh_exception.NoValidConnectionsError",
            "{what}: cannot connect ({detail})",
            "check the host and port, and that sshd runs there",
            transient=True,
        ),
        Row(
            "paramiko.ChannelException",
            "{what}: the server refused a channel ({detail})",
            "the server may limit sessions (MaxSessions); try again",
            transient=True,
        ),
        Row(
            "paramiko.SSHException",
            "{what}: {detail}",
            "try again; a dropped connection ends an SSH session",
            transient=True,
        ),
    ),
)

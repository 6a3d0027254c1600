"""The settings of ``type: email``, apart from the driver so the SMTP transport can use them."""

from __future__ import annotations

from email.utils import parseaddr
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from drkit.notify.config import (
    DEFAULT_TIMEOUT_S,
    EnvName,
    NonBlank,
    NotifierModel,
    SecretFile,
    SecretSource,
    Timeout,
    check_secret_pair,
)


class SmtpTls(StrEnum):
    """How the SMTP connection is protected."""

    STARTTLS = "starttls"  # plain connect, then STARTTLS before anything else (port 587)
    SSL = "ssl"  # TLS from the first byte (port 465)
    NONE = "none"  # no TLS: only for a relay on the same host or network (port 25)


DEFAULT_PORTS = {SmtpTls.STARTTLS: 587, SmtpTls.SSL: 465, SmtpTls.NONE: 25}


def _address(value: str) -> str:
    if "@" not in parseaddr(value)[1]:
        raise PydanticCustomError(
            "email_address", "not an email address (name@example.com or 'Name <name@example.com>')"
        )
    return value


Address = Annotated[str, AfterValidator(_address)]


class EmailSettings(NotifierModel):
    """``type: email``: send a mail through an SMTP server."""

    type: Literal["email"] = "email"
    host: NonBlank = Field(description="SMTP server host name or address.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Port; default 587 (starttls), 465 (ssl), 25."
    )
    tls: SmtpTls = Field(default=SmtpTls.STARTTLS, description="starttls, ssl or none.")
    username: NonBlank | None = Field(default=None, description="SMTP AUTH user name.")
    password_env: EnvName | None = Field(
        default=None, description="Environment variable holding the SMTP password."
    )
    password_file: SecretFile | None = Field(
        default=None, description="File holding the SMTP password (first line)."
    )
    sender: Address = Field(description="The From address.")
    recipients: list[Address] = Field(min_length=1, description="The To addresses.")
    subject_prefix: str = Field(default="[drkit]", description="Put before every subject.")
    timeout_s: Timeout = Field(default=DEFAULT_TIMEOUT_S, description="Seconds per network step.")
    ca_file: SecretFile | None = Field(
        default=None, description="CA certificate(s) to trust for the server's TLS certificate."
    )

    @model_validator(mode="after")
    def _check(self) -> EmailSettings:
        check_secret_pair(
            self.password_env, self.password_file, prefix="password", required=bool(self.username)
        )
        if not self.username and (self.password_env or self.password_file):
            raise PydanticCustomError("password_without_user", "a password needs a username")
        if self.username and self.tls is SmtpTls.NONE:
            raise PydanticCustomError(
                "auth_without_tls",
                "a password is never sent without TLS: use tls: starttls or ssl with username",
            )
        return self

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.tls]

    def target(self) -> str:
        """Where it delivers, for listings (names the password's source, never the password)."""
        login = ""
        if self.username:
            source = SecretSource("", "", self.password_env, self.password_file)
            login = f" as {self.username} (password from {source.describe()})"
        to = ", ".join(self.recipients)
        return f"smtp {self.host}:{self.effective_port} {self.tls.value}{login} to {to}"

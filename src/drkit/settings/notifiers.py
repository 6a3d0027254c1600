"""Notification backends in ``drkit.yaml``: one entry per notifier, its driver chosen by ``type``.

```yaml
notifiers:
  ops-webhook:
    type: webhook
    url: https://hooks.example.com/drkit
    secret_env: DRKIT_WEBHOOK_SECRET      # HMAC signing secret
  team-chat:
    type: slack
    url_env: DRKIT_SLACK_URL              # the incoming-webhook URL is a secret
  oncall-mail:
    type: email
    host: smtp.example.com                # STARTTLS on 587 by default
    username: drkit
    password_file: /etc/drkit/smtp.pass
    sender: drkit@example.com
    recipients: [oncall@example.com]
  pager:
    type: pagerduty
    routing_key_env: DRKIT_PAGERDUTY_KEY
```

Each driver owns its settings model (in ``drkit.notify.<driver>``) and
declares it in ``drkit.notify.registry.NOTIFIERS``; this module names that
registry and takes the union from it (the registry is imported when the first
notifier is validated). An unknown type is reported with the list of known
ones, an unknown key with the key that was probably meant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drkit.plugins import PluginSettings, RegistryRef

NOTIFIERS = RegistryRef("drkit.notify.registry", "NOTIFIERS")
"""The notifier kind, by its registry's name (settings imports no domain)."""

if TYPE_CHECKING:
    NotifierSettings = PluginSettings
else:
    NotifierSettings = NOTIFIERS.field()
    """The settings of one notifier: the model of the driver its ``type`` names."""

__all__ = ["NOTIFIERS", "NotifierSettings"]

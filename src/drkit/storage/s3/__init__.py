"""S3 backend: a repository in a bucket of Amazon S3 or any S3-compatible store.

URL form::

    s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&path_style=true|false
                        &access_key_env=VAR&secret_key_env=VAR&session_token_env=VAR]

* ``endpoint``: a custom endpoint (``http://127.0.0.1:9000`` for MinIO or
  moto); without it the AWS endpoint of the region is used.
* ``region``: the signing region; default the AWS environment's
  (``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile), else ``us-east-1``.
* ``path_style``: ``https://host/BUCKET/KEY`` addressing instead of
  ``https://BUCKET.host/KEY``; default true with an ``endpoint``, otherwise
  botocore's automatic choice.
* Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, instance
  roles), or from the environment variables named by ``access_key_env`` and
  ``secret_key_env`` (and ``session_token_env``). Secrets never go in the URL.

Keys have the local layout under PREFIX::

    PREFIX/config  PREFIX/keys/ID  PREFIX/locks/ID  PREFIX/snapshots/ID
    PREFIX/index/ID  PREFIX/data/XX/ID

S3 writes are atomic (a PUT, or a multipart upload, shows either the whole
object or nothing), so no temporary objects exist; ``remove_staging`` aborts
multipart uploads that crashed writers left under the prefix.

botocore's own retries are off (one attempt per call): drkit's retry wrapper
(:mod:`drkit.storage.retry`) retries :class:`TransientStorageError`, which this
module raises for connection failures, timeouts, throttling and 5xx answers.

The names below are imported on first use: the registry imports only
``config`` (to declare the driver), so naming the backend costs no library.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "S3Backend": "backend",
    "make_client": "backend",
    "S3Config": "config",
    "translate_error": "errors",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)

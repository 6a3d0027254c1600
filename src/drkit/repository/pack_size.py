"""The default size of a pack file, apart from the writer (which imports the crypto)."""

from __future__ import annotations

DEFAULT_PACK_SIZE = 16 * 1024 * 1024

"""The API and dashboard over one drkit.yaml, as `drkit serve` serves them, without the
scheduler (for bench/api.py): ``python -m bench.api_server DRKIT_YAML PORT``."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from drkit.api import create_app
from drkit.api.server import ApiServer
from drkit.services.workspace import Workspace
from drkit.web import install as dashboard


def main() -> None:
    config, port = Path(sys.argv[1]), int(sys.argv[2])
    ws = Workspace(config=config)
    server = ApiServer(create_app(ws, mount=[dashboard]), f"127.0.0.1:{port}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    ws.close()


if __name__ == "__main__":
    main()

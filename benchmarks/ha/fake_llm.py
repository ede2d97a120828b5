"""The fake OpenAI-compatible LLM of the tests as a process: instant answers until SIGTERM.

python -m benchmarks.ha.fake_llm PORT_FILE     # writes its port to PORT_FILE once serving
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest


class _UnrecordedServer(FakeOpenAIServer):
    """Keeps no request log: a run of several minutes would hold every prompt in memory."""

    def _record(self, request: RecordedRequest) -> None:
        pass


def main(port_file: Path) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with _UnrecordedServer() as server:
        partial = port_file.with_suffix(".tmp")
        partial.write_text(f"{server.port}\n")
        partial.rename(port_file)  # whole or absent: the harness never reads half a number
        stop.wait()


if __name__ == "__main__":
    main(Path(sys.argv[1]))

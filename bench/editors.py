"""The Yjs load: Node worker processes (``yjs/editors.mjs``) holding stock WebsocketProvider
editors, driven over their stdin/stdout with one JSON command and one JSON reply per line.

Every server is loaded by the same Node code; only the URL differs. A worker exits when its
stdin closes, so a coordinator that dies cannot leave editors behind; ``close`` also kills them.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers import BENCH, Closing, raise_fd_limit, usage

WORKER = BENCH / "yjs" / "editors.mjs"
Reply = dict[str, Any]


def now_us() -> int:
    """The clock the Node editors stamp edits with (CLOCK_MONOTONIC), in microseconds."""
    return time.monotonic_ns() // 1000


@dataclass(frozen=True)
class Address:
    """Where one document lives on one server, as a WebsocketProvider is given it."""

    url: str
    room: str
    params: dict[str, str]

    def seat(self, doc: str, editor: int, awareness: bool, deflate: bool) -> dict[str, Any]:
        return {
            "doc": doc,
            "editor": editor,
            "url": self.url,
            "room": self.room,
            "params": self.params,
            "awareness": awareness,
            "deflate": deflate,
        }


class EditorWorker:
    """One Node process; a thread turns its stdout lines into replies on a queue."""

    def __init__(self, log_path: Path) -> None:
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                ["node", str(WORKER)],
                cwd=WORKER.parent,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                preexec_fn=raise_fd_limit,
                start_new_session=True,
            )
        self.log_path = log_path
        self.replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def receive(self, deadline: float) -> Reply:
        while True:
            try:
                reply: Reply = json.loads(self.replies.get(timeout=0.2))
                break
            except queue.Empty:
                if self.process.poll() is not None:
                    tail = self.log_path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"editor worker {self.process.pid} died:\n{tail}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"editor worker {self.process.pid} did not answer") from None
        if not reply.pop("ok"):
            raise RuntimeError(f"editor worker {self.process.pid}: {reply['error']}")
        return reply

    def stop(self) -> None:
        """Closing stdin ends the worker; it is killed if it has not gone within 10 s."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(10)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(5)


class Editors(Closing):
    """A group of workers; commands go to all of them (one each) and are awaited together."""

    def __init__(self, count: int, work_dir: Path, name: str) -> None:
        self.workers: list[EditorWorker] = []
        try:
            for i in range(count):
                self.workers.append(EditorWorker(work_dir / f"editors-{name}-{i}.log"))
        except BaseException:
            self.close()
            raise

    def tell(self, commands: list[dict[str, Any]]) -> None:
        """Sends ``commands[i]`` to worker ``i``; the replies are collected by ``gather``."""
        for worker, command in zip(self.workers, commands, strict=False):
            worker.send(command)

    def gather(self, timeout: float, count: int | None = None) -> list[Reply]:
        deadline = time.monotonic() + timeout
        return [worker.receive(deadline) for worker in self.workers[:count]]

    def ask(self, commands: list[dict[str, Any]], timeout: float) -> list[Reply]:
        self.tell(commands)
        return self.gather(timeout, len(commands))

    def tell_all(self, command: dict[str, Any]) -> None:
        self.tell([command] * len(self.workers))

    def ask_all(self, command: dict[str, Any], timeout: float) -> list[Reply]:
        return self.ask([command] * len(self.workers), timeout)

    def cpu_seconds(self) -> float:
        return sum(usage(worker.process.pid).cpu_seconds for worker in self.workers)

    def start_editing(
        self, warmup: float, duration: float, rate: float, drain: float
    ) -> tuple[int, int]:
        """Every editor edits ``rate`` times a second from half a second from now; the window
        that counts opens ``warmup`` seconds later and lasts ``duration``. Returns its bounds
        (`now_us`); the editors wait up to ``drain`` seconds for the last deliveries."""
        start = now_us() + 500_000
        t0 = start + int(warmup * 1e6)
        t1 = t0 + int(duration * 1e6)
        edit = {"op": "edit", "start": start, "t0": t0, "t1": t1}
        self.tell_all({**edit, "periodUs": int(1e6 / rate), "drainMs": int(drain * 1000)})
        return t0, t1

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()


def shares(items: list[Any], parts: int) -> list[list[Any]]:
    """Round-robin split, so each worker holds editors of every document."""
    return [share for share in (items[i::parts] for i in range(parts)) if share]

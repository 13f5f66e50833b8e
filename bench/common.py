"""What the benchmarks share: child processes that must answer before measuring, and the
section of docs/benchmarks.md each benchmark owns."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def logger(name: str) -> Log:
    return Log(name)


class Log:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, message: str) -> None:
        print(f"[{self.name} {time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def process(
    args: list[str], env: dict[str, str], ready_url: str, timeout: float = 60.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until the block ends; wait until ``ready_url`` answers (any status < 400)."""
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{args} exited: {proc.stderr.read().decode() if proc.stderr else ''}"
                )
            try:
                with urllib.request.urlopen(ready_url, timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{args} not ready") from None
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def bare_server(port: int) -> Iterator[str]:
    """``bench/bare_server.py`` (the machine's aiohttp ceiling) on ``port``; its base URL."""
    url = f"http://127.0.0.1:{port}"
    with process(
        [sys.executable, "-m", "bench.bare_server", str(port)], dict(os.environ), f"{url}/get/1"
    ):
        yield url


def write_section(name: str, section: str) -> Path:
    """Replace (or append) the ``<!-- name:begin -->`` … ``<!-- name:end -->`` block."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{section.strip()}\n{end}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
    return DOC

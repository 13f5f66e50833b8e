"""The ticket service as it runs in production: ``python -m ticket_service`` in its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.services import free_port

from .conftest import KEYS

ROOT = Path(__file__).resolve().parents[2]


def _start(db_url: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "TAWASUL_DB_URL": db_url,
        "TAWASUL_TICKET_PORT": str(port),
        "TAWASUL_TICKET_WORKERS": str(workers),
        "TAWASUL_API_KEYS": ",".join(f"{r}={k}" for r, k in KEYS.items()),
        "TAWASUL_EVENT_SUBSCRIBERS": "",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ticket_service"], cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    return proc, f"http://127.0.0.1:{port}"


def _get(url: str, language: str = "ar") -> list[dict[str, object]]:
    request = urllib.request.Request(url, headers={"Accept-Language": language})
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def _wait_until_serving(proc: subprocess.Popen[bytes], base: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            return _get(f"{base}/open311/v2/services.json", "en")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serves_the_ten_services_and_stops_cleanly(tmp_path: Path) -> None:
    proc, base = _start(f"sqlite+aiosqlite:///{tmp_path}/tickets.db")
    try:
        services = _wait_until_serving(proc, base)
        assert [s["service_code"] for s in services][:3] == ["pothole", "streetlight", "waste"]
        assert len(services) == 10 and services[0]["service_name"] == "Potholes and road damage"
        assert _get(f"{base}/open311/v2/services.json")[0]["service_name"] == "حفر وتلف الطرق"
    finally:
        assert _stop(proc) == 0
    assert (tmp_path / "tickets.db").exists()  # migrated on start


def test_two_workers_share_the_port_on_postgresql(postgres_url: str) -> None:
    proc, base = _start(postgres_url, workers=2)
    try:
        _wait_until_serving(proc, base)
        for _ in range(20):  # connections land on either worker; all of them answer
            assert len(_get(f"{base}/open311/v2/services.json")) == 10
    finally:
        assert _stop(proc) == 0

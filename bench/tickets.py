"""``make bench-tickets``: ticket creates/s and GET latency on SQLite and PostgreSQL.

Each backend gets a fresh database and a real ticket service process (``python -m
ticket_service``); a bare aiohttp app that only parses JSON is measured in the same run as the
ceiling of this machine. PostgreSQL runs with its default durability (fsync on). Results are
printed and written to docs/benchmarks.md between the ``bench-tickets`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import bare_server, logger, process, write_section
from bench.loadgen import Result, run
from tests.services import PostgresServer, free_port

ROOT = Path(__file__).resolve().parent.parent
HUB_KEY = "bench-hub-key"
SERVICES = [
    "pothole",
    "streetlight",
    "waste",
    "water_leak",
    "sewage",
    "stray_animals",
    "building_violation",
    "trees_parks",
    "sidewalk",
    "other",
]


log = logger("bench-tickets")


def create_body(i: int, rng: random.Random) -> dict[str, Any]:
    # spread over the province so the duplicate check finds candidates but rarely a match
    return {
        "kind": "report",
        "service_code": SERVICES[i % len(SERVICES)],
        "description": f"bench report {i}: حفرة في الطريق",
        "lat": rng.uniform(25.3, 28.4),
        "long": rng.uniform(46.0, 50.2),
        "channel": "whatsapp",
        "language": "ar",
        "reporter": {"channel": "whatsapp", "channel_user_id": f"9665{rng.randrange(10**8):08d}"},
    }


async def measure_service(base: str, creates: int, gets: int) -> dict[str, Result]:
    rng = random.Random(7)
    numbers: list[str] = []
    headers = {"X-Api-Key": HUB_KEY}
    results: dict[str, Result] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

        async def create(s: aiohttp.ClientSession, i: int) -> int:
            # as the hub and the bot do: every create carries an idempotency key
            key = {"Idempotency-Key": str(uuid.uuid4())}
            async with s.post(
                f"{base}/api/v1/requests", json=create_body(i, rng), headers={**headers, **key}
            ) as r:
                if r.status < 300:
                    numbers.append((await r.json())["ticket"]["service_request_id"])
                return r.status

        async def get(s: aiohttp.ClientSession, i: int) -> int:
            async with s.get(f"{base}/open311/v2/requests/{numbers[i % len(numbers)]}.json") as r:
                await r.read()
                return r.status

        await run(session, create, concurrency=8, total=200)  # warm-up
        for c in (1, 32):
            log(f"  creates at concurrency {c} ...")
            results[f"create c{c}"] = await run(
                session, create, concurrency=c, total=creates if c > 1 else creates // 4
            )
            log(f"  gets at concurrency {c} ...")
            results[f"get c{c}"] = await run(
                session, get, concurrency=c, total=gets if c > 1 else gets // 4
            )
    return results


async def measure_bare(base: str, creates: int) -> dict[str, Result]:
    body = create_body(0, random.Random(1))
    results: dict[str, Result] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

        async def post(s: aiohttp.ClientSession, i: int) -> int:
            async with s.post(f"{base}/create", json=body) as r:
                await r.read()
                return r.status

        async def get(s: aiohttp.ClientSession, i: int) -> int:
            async with s.get(f"{base}/get/{i}") as r:
                await r.read()
                return r.status

        await run(session, post, concurrency=8, total=200)
        for c in (1, 32):
            results[f"create c{c}"] = await run(session, post, concurrency=c, total=creates)
            results[f"get c{c}"] = await run(session, get, concurrency=c, total=creates)
    return results


def service_env(db_url: str, port: int, workers: int = 1) -> dict[str, str]:
    return {
        **os.environ,
        "TAWASUL_DB_URL": db_url,
        "TAWASUL_TICKET_PORT": str(port),
        "TAWASUL_TICKET_WORKERS": str(workers),
        "TAWASUL_API_KEYS": f"hub={HUB_KEY}",
        "TAWASUL_EVENT_SUBSCRIBERS": "",
        "TAWASUL_SMTP_HOST": "",
    }


def bench_backend(
    name: str, db_url: str, creates: int, gets: int, workers: int = 1
) -> dict[str, Result]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(
        [sys.executable, "-m", "ticket_service"],
        service_env(db_url, port, workers),
        f"{base}/open311/v2/services.json",
    ):
        log(f"{name}: ticket service up on {base}")
        return asyncio.run(measure_service(base, creates, gets))


def table(rows: dict[str, dict[str, Result]]) -> str:
    lines = [
        "| target | operation | concurrency | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for target, results in rows.items():
        for key, r in results.items():
            op, c = key.split(" c")
            lines.append(
                f"| {target} | {op} | {c} | {r.requests} | {r.rate:,.0f} "
                f"| {r.p50:.1f} | {r.p99:.1f} | {r.errors} |"
            )
    return "\n".join(lines)


def _verdict(name: str, results: dict[str, Result]) -> str:
    """The issue's targets: >= 300 creates/s on PostgreSQL and GET p99 < 50 ms, concurrency 32."""
    creates, gets = results["create c32"], results["get c32"]
    ok = creates.rate >= 300 and gets.p99 < 50
    return (
        f"- {name}, concurrency 32: **{creates.rate:,.0f} creates/s**, GET p50 {gets.p50:.1f} ms "
        f"/ **p99 {gets.p99:.1f} ms** (targets ≥ 300/s and p99 < 50 ms: "
        f"{'met' if ok else 'NOT met'})."
    )


def write_doc(rows: dict[str, dict[str, Result]], args: argparse.Namespace) -> None:
    verdict = "\n".join(
        _verdict(name, results) for name, results in rows.items() if "PostgreSQL" in name
    )
    section = f"""## Ticket service (`make bench-tickets`)

Last run: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}, {os.cpu_count()} cores, load average
before the run {args.load_before:.2f} (other work on the machine inflates latencies: compare
with the bare ceiling of the same run).
{verdict}

{table(rows)}

How: `python -m bench.tickets --creates {args.creates} --gets {args.gets}`. For each backend a
fresh database (SQLite file in WAL mode; a throw-away PostgreSQL {PostgresServer.__name__} cluster
with default durability: fsync and synchronous_commit on) and a real `python -m ticket_service`
process on 127.0.0.1; a closed-loop aiohttp client (`bench/loadgen.py`) in a second process sends
`POST /api/v1/requests` (hub key, an `Idempotency-Key`, reporter, random point in the province,
rotating service codes; each create runs routing, the duplicate search, the reporter upsert, the
history row and the outbox event in one transaction) and then `GET /open311/v2/requests/<id>.json`
for the created ids. Concurrency 1 runs a quarter of the requests. "bare aiohttp" is
`bench/bare_server.py`, a handler that only parses the JSON body, measured in the same run as the
ceiling of this machine. The load generator shares the 2 cores with the service and the database.
"""
    doc = write_section("bench-tickets", section)
    log(f"wrote {doc.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench-tickets")
    parser.add_argument("--creates", type=int, default=4000)
    parser.add_argument("--gets", type=int, default=4000)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    rows: dict[str, dict[str, Result]] = {}

    with bare_server(free_port()) as bare:
        log("bare aiohttp ceiling ...")
        rows["bare aiohttp (ceiling)"] = asyncio.run(measure_bare(bare, args.creates))

    with tempfile.TemporaryDirectory() as tmp:
        log("SQLite ...")
        rows["ticket service, SQLite"] = bench_backend(
            "SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.creates, args.gets
        )

    pg = PostgresServer(durable=True)
    try:
        log("PostgreSQL: starting a durable cluster ...")
        url = pg.start()
        rows["ticket service, PostgreSQL"] = bench_backend(
            "PostgreSQL", url, args.creates, args.gets
        )
        rows["ticket service, PostgreSQL, 2 workers"] = bench_backend(
            "PostgreSQL, 2 workers", url, args.creates, args.gets, workers=2
        )
    finally:
        pg.remove()

    print(table(rows))
    if not args.no_doc:
        write_doc(rows, args)


if __name__ == "__main__":
    main()

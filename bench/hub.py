"""``make bench-hub``: what the hub costs, measured beside its ceilings in one run.

(a) Webhook ingest: signed WhatsApp webhooks (one text message each, a fresh ``wamid`` per
    request) posted to ``/webhooks/whatsapp`` of a real hub process — signature check on the
    raw bytes, dedup and a durable enqueue into Redis (``appendonly yes``, ``appendfsync
    always``) before the 200 — at concurrency 1, 16 and 64; beside ``bench/bare_server.py``,
    an aiohttp handler that only parses the same JSON (the ceiling of this machine). The hub's
    workers are pointed at a Rasa that is not there, so what is measured is the ingest.
(b) Added latency of a conversation turn: the same messages (greeting, thanks, goodbye, a
    question …) sent (1) straight to Rasa's REST channel and (2) as WhatsApp webhooks through
    the hub, whose replies go to a fake Graph API; for (2) the time runs from the webhook POST
    to the last send-API call of that turn at the fake. Real Rasa, action server and ticket
    service. Concurrency 1 and 16 (16 conversations at once, each one message at a time).

Numbers are printed and written to docs/benchmarks.md between the ``bench-hub`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import bare_server, logger, process, write_section
from bench.loadgen import Result, run
from tests.channels.fakes.graph import FakeGraph
from tests.services import RedisServer, free_port
from tests.stack import ActionServer, RasaServer, TicketService
from tests.ticket_service.conftest import KEYS

log = logger("bench-hub")

APP_SECRET = "bench-app-secret"
VERIFY_TOKEN = "bench-verify-token"
CONCURRENCY = (1, 16, 64)
TURN_CONCURRENCY = (1, 16)
#: One round of a conversation; every message gets a reply without filing anything.
ROUND = {
    "ar": ["السلام عليكم", "شكرا", "مع السلامة"],
    "en": ["hello", "thanks", "bye"],
}


def whatsapp_body(graph: FakeGraph, wa_id: str, wamid: str, text: str) -> bytes:
    """A WhatsApp Cloud API webhook carrying one text message, as Meta sends it."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "966138940940",
                                "phone_number_id": graph.phone_number_id,
                            },
                            "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def hub_env(
    port: int, redis_url: str, rasa_url: str, ticket_url: str, graph: FakeGraph, media: Path
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAWASUL_WHATSAPP_", "TAWASUL_MESSENGER_", "TAWASUL_X_"))
        and not k.startswith(("TAWASUL_TELEGRAM_", "TAWASUL_EMAIL_"))
    }
    env.update(
        {
            "TAWASUL_HUB_HOST": "127.0.0.1",
            "TAWASUL_HUB_PORT": str(port),
            "TAWASUL_REDIS_URL": redis_url,
            "TAWASUL_RASA_URL": rasa_url,
            "TAWASUL_TICKET_URL": ticket_url,
            "TAWASUL_HUB_API_KEY": KEYS["hub"],
            "TAWASUL_MEDIA_DIR": str(media),
            "TAWASUL_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TAWASUL_LOG_LEVEL": "WARNING",
            "TAWASUL_WHATSAPP_ACCESS_TOKEN": graph.wa_token,
            "TAWASUL_WHATSAPP_APP_SECRET": APP_SECRET,
            "TAWASUL_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "TAWASUL_WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
            "TAWASUL_META_GRAPH_URL": graph.base_url or "http://127.0.0.1:9",
            "TAWASUL_META_GRAPH_VERSION": graph.version,
            "TAWASUL_WEB_ENABLED": "0",
        }
    )
    return env


# --- (a) ingest ------------------------------------------------------------------------------


async def measure_ingest(url: str, bodies: Sequence[bytes]) -> dict[str, Result]:
    """POST pre-built signed bodies; each request a distinct message (no duplicate)."""
    results: dict[str, Result] = {}
    offset = 0
    connector = aiohttp.TCPConnector(limit=128)
    async with aiohttp.ClientSession(connector=connector) as session:
        # (body, headers) built before timing: the generator shares the cores
        prepared = [(b, signed(b)) for b in bodies]

        async def post(s: aiohttp.ClientSession, i: int) -> int:
            body, headers = prepared[offset + i]
            async with s.post(url, data=body, headers=headers) as r:
                await r.read()
                return r.status

        warm = min(500, len(prepared) // 10)
        await run(session, post, concurrency=8, total=warm)
        offset += warm
        for c in CONCURRENCY:
            total = (len(prepared) - warm) // (len(CONCURRENCY) + 2)
            total = total // 4 if c == 1 else total
            log(f"  concurrency {c}: {total} webhooks ...")
            results[f"c{c}"] = await run(session, post, concurrency=c, total=total)
            offset += total
    return results


def bench_ingest(args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, Result]]:
    graph = FakeGraph()
    bodies = [
        whatsapp_body(graph, f"9665{n:08d}", f"wamid.bench{n:012d}", "السلام عليكم، في حفرة")
        for n in range(args.webhooks)
    ]
    rows: dict[str, dict[str, Result]] = {}
    with bare_server(free_port()) as bare:
        log("(a) bare aiohttp ceiling ...")
        rows["bare aiohttp (ceiling)"] = asyncio.run(measure_ingest(f"{bare}/create", bodies))
    redis = RedisServer(tmp / "redis-ingest")
    redis_url = redis.start()
    try:
        port = free_port()
        env = hub_env(
            port,
            redis_url,
            f"http://127.0.0.1:{free_port()}",
            "http://127.0.0.1:9",
            graph,
            tmp / "media",
        )
        env["TAWASUL_HUB_CONCURRENCY"] = "1"
        with process([sys.executable, "-m", "bot"], env, f"http://127.0.0.1:{port}/metrics"):
            log("(a) hub ingest (signature, dedup, durable XADD) ...")
            rows["hub ingest"] = asyncio.run(
                measure_ingest(f"http://127.0.0.1:{port}/webhooks/whatsapp", bodies)
            )
    finally:
        redis.stop()
        shutil.rmtree(tmp / "redis-ingest", ignore_errors=True)
    return rows


# --- (b) added latency of a turn --------------------------------------------------------------


@dataclass
class Turns:
    latencies_ms: list[float]
    seconds: float

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered), max(1, round(p / 100 * len(ordered)))) - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


def script(rounds: int, n: int) -> list[str]:
    language = "ar" if n % 2 == 0 else "en"
    return [text for _ in range(rounds) for text in ROUND[language]]


async def direct_turns(
    rasa_url: str, concurrency: int, rounds: int, tag: str
) -> tuple[Turns, dict[tuple[int, int], int]]:
    """Rasa's REST channel, one message at a time per conversation; also how many replies
    each message got (the hub run waits for as many send calls)."""
    latencies: list[float] = []
    replies: dict[tuple[int, int], int] = {}
    async with aiohttp.ClientSession() as session:

        async def conversation(n: int) -> None:
            sender = f"bench-direct-{tag}-{n}"
            for i, text in enumerate(script(rounds, n)):
                t0 = time.perf_counter()
                async with session.post(
                    f"{rasa_url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text, "metadata": {"channel": "rest"}},
                ) as r:
                    body = await r.json()
                latencies.append((time.perf_counter() - t0) * 1000)
                replies[(n, i)] = len(body)

        start = time.perf_counter()
        await asyncio.gather(*(conversation(n) for n in range(concurrency)))
    return Turns(latencies, time.perf_counter() - start), replies


async def hub_turns(
    hub_url: str,
    graph: FakeGraph,
    concurrency: int,
    rounds: int,
    tag: str,
    expected: dict[tuple[int, int], int],
) -> Turns:
    """The same scripts as WhatsApp webhooks; done when the fake Graph API got the replies."""
    latencies: list[float] = []
    arrivals: dict[str, asyncio.Queue[float]] = {}
    graph.on_call = lambda call: _arrival(arrivals, call)
    async with aiohttp.ClientSession() as session:

        async def conversation(n: int) -> None:
            wa_id = f"96655{tag}{n:05d}"
            queue = arrivals.setdefault(wa_id, asyncio.Queue())
            graph.open_window(wa_id)
            for i, text in enumerate(script(rounds, n)):
                body = whatsapp_body(graph, wa_id, f"wamid.{tag}.{n}.{i}", text)
                t0 = time.monotonic()
                async with session.post(
                    f"{hub_url}/webhooks/whatsapp", data=body, headers=signed(body)
                ) as r:
                    assert r.status == 200, await r.text()
                last = t0
                for _ in range(max(1, expected[(n, i)])):
                    last = await asyncio.wait_for(queue.get(), 120)
                latencies.append((last - t0) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(conversation(n) for n in range(concurrency)))
    return Turns(latencies, time.perf_counter() - start)


def _arrival(arrivals: dict[str, asyncio.Queue[float]], call: Any) -> None:
    body = call.body if isinstance(call.body, dict) else {}
    to = body.get("to")
    is_send = call.method == "POST" and call.path.endswith("/messages")
    if is_send and to in arrivals and body.get("status") != "read":
        arrivals[to].put_nowait(call.received_at)


async def bench_turns_async(
    args: argparse.Namespace, tmp: Path, rasa_url: str, ticket_url: str
) -> dict[str, tuple[Turns, Turns]]:
    graph = FakeGraph(enforce_window=False)
    await graph.start()
    redis = RedisServer(tmp / "redis-turns")
    redis_url = redis.start()
    rows: dict[str, tuple[Turns, Turns]] = {}
    try:
        port = free_port()
        env = hub_env(port, redis_url, rasa_url, ticket_url, graph, tmp / "media")
        with process([sys.executable, "-m", "bot"], env, f"http://127.0.0.1:{port}/metrics"):
            hub_url = f"http://127.0.0.1:{port}"
            log("(b) warm-up ...")
            _, warm = await direct_turns(rasa_url, 2, 1, "warm")
            await hub_turns(hub_url, graph, 2, 1, "0", warm)
            for c in TURN_CONCURRENCY:
                rounds = args.rounds if c == 1 else max(1, args.rounds // 4)
                for attempt in range(2):  # interleave: direct, hub, direct, hub
                    tag = f"{c}{attempt}"
                    log(f"(b) concurrency {c}, pass {attempt + 1}: Rasa direct ...")
                    direct, expected = await direct_turns(rasa_url, c, rounds, tag)
                    log(f"(b) concurrency {c}, pass {attempt + 1}: through the hub ...")
                    via_hub = await hub_turns(hub_url, graph, c, rounds, tag, expected)
                    if f"c{c}" in rows:
                        d0, h0 = rows[f"c{c}"]
                        direct = Turns(
                            d0.latencies_ms + direct.latencies_ms, d0.seconds + direct.seconds
                        )
                        via_hub = Turns(
                            h0.latencies_ms + via_hub.latencies_ms, h0.seconds + via_hub.seconds
                        )
                    rows[f"c{c}"] = (direct, via_hub)
    finally:
        await graph.stop()
        redis.stop()
    return rows


def bench_turns(args: argparse.Namespace, tmp: Path) -> dict[str, tuple[Turns, Turns]]:
    directory = tmp / "stack"
    directory.mkdir()
    ticket = TicketService(directory)
    actions = ActionServer(directory, ticket.url)
    rasa = RasaServer(directory, actions.url)
    log("(b) starting Rasa, the action server and the ticket service (Rasa needs ≈ 35 s) ...")
    rasa.launch()
    try:
        ticket.start()
        actions.start()
        rasa.wait_ready()
        log(f"(b) Rasa ready after {rasa.startup_seconds:.0f} s")
        return asyncio.run(bench_turns_async(args, tmp, rasa.url, ticket.url))
    finally:
        for p in (rasa, actions, ticket):
            p.stop()


# --- report -----------------------------------------------------------------------------------


def ingest_table(rows: dict[str, dict[str, Result]]) -> str:
    lines = [
        "| | concurrency | webhooks/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, results in rows.items():
        for r in results.values():
            lines.append(
                f"| {name} | {r.concurrency} | {r.rate:,.0f} | {r.p50:.2f} | {r.p99:.2f} "
                f"| {r.errors} |"
            )
    return "\n".join(lines)


def turns_table(rows: dict[str, tuple[Turns, Turns]]) -> str:
    lines = [
        "| concurrency | turns | Rasa direct p50 / p99 ms | through the hub p50 / p99 ms "
        "| added p50 / p99 ms |",
        "|---:|---:|---|---|---|",
    ]
    for key, (direct, hub) in rows.items():
        lines.append(
            f"| {key[1:]} | {len(hub.latencies_ms)} | {direct.p50:.1f} / {direct.pct(99):.1f} "
            f"| {hub.p50:.1f} / {hub.pct(99):.1f} | {hub.p50 - direct.p50:+.1f} / "
            f"{hub.pct(99) - direct.pct(99):+.1f} |"
        )
    return "\n".join(lines)


def verdicts(
    ingest: dict[str, dict[str, Result]] | None, turns: dict[str, tuple[Turns, Turns]] | None
) -> list[str]:
    out: list[str] = []
    if ingest:
        bare, hub = ingest["bare aiohttp (ceiling)"]["c64"], ingest["hub ingest"]["c64"]
        share = hub.rate / bare.rate if bare.rate else 0.0
        out.append(
            f"- Ingest at concurrency 64: **{hub.rate:,.0f} webhooks/s = {share:.0%} of the bare "
            f"ceiling** ({bare.rate:,.0f}/s), ack p50 {hub.p50:.1f} ms / p99 {hub.p99:.1f} ms "
            f"(target ≥ 50 %: {'met' if share >= 0.5 else 'NOT met'})."
        )
    if turns:
        for key, (direct, hub) in turns.items():
            a50, a99 = hub.p50 - direct.p50, hub.pct(99) - direct.pct(99)
            ok = a50 <= 10 and a99 <= 30
            out.append(
                f"- Turn latency added by the hub at concurrency {key[1:]}: **{a50:+.1f} ms p50, "
                f"{a99:+.1f} ms p99** (targets ≤ 10 / ≤ 30 ms: {'met' if ok else 'NOT met'})."
            )
    return out


def write_doc(
    ingest: dict[str, dict[str, Result]] | None,
    turns: dict[str, tuple[Turns, Turns]] | None,
    args: argparse.Namespace,
) -> None:
    parts = [
        "## Channel hub (`make bench-hub`)",
        "",
        f"Last run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, {os.cpu_count()} cores, "
        f"load average before the run {args.load_before:.2f}.",
        *verdicts(ingest, turns),
        "",
    ]
    if ingest:
        parts += ["### (a) Webhook ingest", "", ingest_table(ingest), ""]
    if turns:
        parts += [
            "### (b) Latency a conversation turn gains through the hub",
            "",
            turns_table(turns),
            "",
        ]
    parts.append(
        f"How: `python -m bench.hub --webhooks {args.webhooks} --rounds {args.rounds}`. "
        + (__doc__ or "").split("\n\n", 1)[1].split("\n\nNumbers")[0].replace("\n", " ")
        + " The load generator (`bench/loadgen.py`, closed loop) shares the 2 cores with the "
        "hub, Redis and Rasa; concurrency 1 runs a quarter of the requests. Added latency = "
        "the hub's percentile minus Rasa's percentile over the same scripts, measured in "
        "alternating passes."
    )
    doc = write_section("bench-hub", "\n".join(parts))
    log(f"wrote {doc}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench-hub")
    parser.add_argument("--webhooks", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=20, help="script rounds per conversation")
    parser.add_argument("--only", choices=("ingest", "turns"))
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    ingest = turns = None
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as name:
        tmp = Path(name)
        if args.only in (None, "ingest"):
            ingest = bench_ingest(args, tmp)
            print(ingest_table(ingest), flush=True)
        if args.only in (None, "turns"):
            turns = bench_turns(args, tmp)
            print(turns_table(turns), flush=True)
    for line in verdicts(ingest, turns):
        print(line)
    if not args.no_doc:
        write_doc(ingest, turns, args)


if __name__ == "__main__":
    main()

"""Many people at once: `closer serve` driven by concurrent `/ask` clients, loopback only.

    python benchmarks/bench_load.py [--home DIR] [--clients 32] [--seconds 60] [--concurrency 1,2,4]

For each `--concurrency` value a fresh `closer serve --concurrency N` process is started on the
same index (DIR, or a temporary data folder built from corpus/ first), warmed with one answer,
then `--clients` clients each ask a question, wait for the whole answer and ask the next, for
`--seconds` (a closed loop: never more than `--clients` requests in flight); with `--history N`
each request carries the client's last N questions as the conversation so far. The questions are
the built-in and real test sets' questions, in turn, so answers are not repeats of one question.
Each request is Gradio's HTTP API as any program would use it: POST /gradio_api/call/ask, then
read the event stream of its result. Reported: answers, answers a second, latency p50 / p95 /
max from sending the question to the last byte of the answer, errors (any HTTP error, error
event or timeout), and the server's resident memory (peak, and at the end).

The clients run in this one process (asyncio + httpx) and share the 2 cores with the server;
their own cost is small beside an answer but is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CLOSER = str(Path(sys.executable).with_name("closer"))
EVALUATION = REPO / "assistant" / "evaluation"
TIMEOUT = 30.0  # a request slower than this counts as an error


def questions() -> list[str]:
    found = []
    for name in ("testset.jsonl", "real.jsonl"):
        with open(EVALUATION / name, encoding="utf-8") as lines:
            found += [json.loads(line)["question"] for line in lines if line.strip()]
    return found


def env(home: Path) -> dict:
    return {**os.environ, "CLOSER_HOME": str(home), "CLOSER_CORPUS": str(REPO / "corpus"), "HF_HUB_OFFLINE": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), MB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def ask(client: httpx.AsyncClient, question: str, history: list[str] | None = None) -> None:
    """One answer through Gradio's HTTP API; raises on anything but a complete answer."""
    sent = await client.post("/gradio_api/call/ask", json={"data": [question, "", history or []]})
    sent.raise_for_status()
    event_id = sent.json()["event_id"]
    event = None
    async with client.stream("GET", f"/gradio_api/call/ask/{event_id}") as stream:
        stream.raise_for_status()
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"error event: {line[5:].strip()[:200]}")
                answer = json.loads(line[5:])[0]
                if "citations" not in answer:
                    raise RuntimeError("an answer without citations field")
                return
    raise RuntimeError(f"stream ended without an answer (last event {event})")


async def drive(port: int, clients: int, seconds: float, pool: list[str],
                history: int = 0) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=2 * clients, max_keepalive_connections=2 * clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT, limits=limits) as client:
        async def one_client(number: int) -> None:
            turn, asked = number, []
            while time.perf_counter() < deadline:
                question = pool[turn % len(pool)]
                turn += clients
                started = time.perf_counter()
                try:
                    await asyncio.wait_for(ask(client, question, asked[-history:] if history else None), TIMEOUT)
                    asked.append(question)
                    latencies.append(time.perf_counter() - started)
                except Exception as exc:  # every failure is counted, and the first few are shown
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])

        await asyncio.gather(*(one_client(n) for n in range(clients)))
    return latencies, errors


def wait_ready(port: int, process: subprocess.Popen, pool: list[str], limit: float = 300.0) -> float:
    """Seconds until the server's first complete answer (the warm-up); gives up after `limit`."""
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise SystemExit(f"closer serve exited with {process.returncode}")
        try:
            asyncio.run(drive_one(port, pool[0]))
            return time.perf_counter() - started
        except (httpx.HTTPError, RuntimeError) as exc:
            if time.perf_counter() - started > limit:
                raise SystemExit(f"closer serve did not answer within {limit:.0f} s: {exc}") from None
            time.sleep(0.2)


async def drive_one(port: int, question: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        await ask(client, question)


def run(home: Path, concurrency: int, clients: int, seconds: float, pool: list[str], history: int = 0) -> dict:
    port = free_port()
    process = subprocess.Popen([CLOSER, "serve", "--port", str(port), "--concurrency", str(concurrency)],
                               env=env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process, pool)
        latencies, errors = asyncio.run(drive(port, clients, seconds, pool, history))
        rss, peak = memory_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    ordered = sorted(latencies) or [float("nan")]
    return {"concurrency": concurrency, "answers": len(latencies), "per_second": len(latencies) / seconds,
            "p50": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "max": ordered[-1], "errors": len(errors), "first_errors": errors[:3], "rss": rss, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--history", type=int, default=0,
                        help="send each client's last N questions as the conversation so far (a follow-up)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="closer-load-"))
    subprocess.run([CLOSER, "ingest"], env=env(home), check=True, capture_output=True)  # no-op when up to date
    pool = questions()
    rows = [run(home, int(c), args.clients, args.seconds, pool, args.history) for c in args.concurrency.split(",")]
    print(f"{args.clients} clients for {args.seconds:.0f} s each, {len(pool)} questions in turn, "
          f"{args.history} earlier questions sent with each\n")
    print("| --concurrency | answers | answers/s | p50 s | p95 s | max s | errors | server memory peak / end MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['concurrency']} | {row['answers']} | {row['per_second']:.1f} | {row['p50']:.3f} | "
              f"{row['p95']:.3f} | {row['max']:.3f} | {row['errors']} | {row['peak']:.0f} / {row['rss']:.0f} |")
    for row in rows:
        for error in row["first_errors"]:
            print(f"concurrency {row['concurrency']}: {error}")


if __name__ == "__main__":
    main()

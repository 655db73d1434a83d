"""A question answered by a fresh process, the ONNX question path beside torch's, side by side.

    python benchmarks/bench_cold.py [--home DIR] [--repeat 3]

`closer ask` on an existing index (the models already exported): wall time and peak resident
memory of the whole process (`/usr/bin/time`), median of --repeat runs, alternating the two
backends (CLOSER_QUESTION_MODELS=onnx|torch). Then `closer serve` on the same index: seconds from
starting the process to the first `/ask` answered. DIR defaults to a temporary data folder built
from corpus/ first.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Can emotional intimacy be rebuilt after betrayal?"
CLOSER = str(Path(sys.executable).with_name("closer"))


def env(home: Path, backend: str) -> dict:
    return {**os.environ, "CLOSER_HOME": str(home), "CLOSER_CORPUS": str(REPO / "corpus"),
            "HF_HUB_OFFLINE": "1", "CLOSER_QUESTION_MODELS": backend}


def cold_ask(home: Path, backend: str) -> tuple[float, float]:
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", CLOSER, "ask", QUESTION], capture_output=True, text=True,
                         env=env(home, backend), check=True)
    wall, kb = out.stderr.strip().splitlines()[-1].split()
    assert "[1]" in out.stdout
    return float(wall), int(kb) / 1024


def serve_ready(home: Path, backend: str) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    process = subprocess.Popen([CLOSER, "serve", "--port", str(port)], env=env(home, backend),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from gradio_client import Client

        while True:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:
                time.sleep(0.05)
        record = client.predict(QUESTION, "", api_name="/ask")
        assert record["citations"]
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="closer-cold-"))
    subprocess.run([CLOSER, "ingest"], env=env(home, "onnx"), check=True, capture_output=True)  # index and exports
    runs: dict[str, list] = {"torch": [], "onnx": []}
    for _ in range(args.repeat):
        for backend in runs:
            runs[backend].append(cold_ask(home, backend))
    ready = {backend: [serve_ready(home, backend) for _ in range(args.repeat)] for backend in runs}
    print(f"| question path | `closer ask` wall s (median of {args.repeat}) | peak memory MB | "
          "`closer serve` start → first answer s |")
    print("| --- | --- | --- | --- |")
    for backend, values in runs.items():
        print(f"| {backend} | {statistics.median(v[0] for v in values):.2f} "
              f"({', '.join(f'{v[0]:.2f}' for v in values)}) | {statistics.median(v[1] for v in values):.0f} | "
              f"{statistics.median(ready[backend]):.2f} ({', '.join(f'{r:.2f}' for r in ready[backend])}) |")


if __name__ == "__main__":
    main()

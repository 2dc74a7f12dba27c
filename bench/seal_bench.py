"""What sealing costs per reply: AES-GCM under the person's key, as the capture writer does it.

    python bench/seal_bench.py
    python bench/seal_bench.py --chars 1000 --replies 200000

Seals (and opens, as an export does) replies of a typical length for a few hundred people
whose keys are cached, and reports microseconds per reply; also how long making the keys of
a batch of new people takes (one committed transaction in the key store).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from storage import sealed
from storage._keys import sealed_identity, user_key
from storage.keystore import KeyStore


def _per_reply(run: list[float], count: int) -> str:
    return (
        f"{statistics.median(run) / count * 1e6:.2f} µs (runs: "
        + ", ".join(f"{r / count * 1e6:.2f}" for r in run)
        + ")"
    )


def main() -> None:
    """Time sealing and opening, and making keys."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--chars", type=int, default=120)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        keys = KeyStore(Path(folder) / "bench.keys")
        started = time.perf_counter()
        keys.ensure(range(args.people))
        made = time.perf_counter() - started
        text = ("a reply of typical length, " * 50)[: args.chars]
        rows = [
            (n % args.people, (("chat", f"g{n % 400}", str(n))), text) for n in range(args.replies)
        ]
        seal_runs: list[float] = []
        open_runs: list[float] = []
        index_runs: list[float] = []
        identity_runs: list[float] = []
        users = [(n, str(7_000_000_000 + n)) for n in range(args.people)]
        for _ in range(args.runs):
            # Per person: the blind index each reply's person is found by (once per batch), and
            # the sealed user id a new person's identity row stores (once per person).
            started = time.perf_counter()
            for _, user in users:
                user_key(keys, "telegram", user)
            index_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            for participant, user in users:
                sealed_identity(keys, participant, "telegram", user)
            identity_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            done = [keys.seal(p, t, sealed.reply(p, m)) for p, m, t in rows]
            seal_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            for (p, m, _), value in zip(rows, done, strict=True):
                keys.open(p, value, sealed.reply(p, m))
            open_runs.append(time.perf_counter() - started)
    print(f"{args.replies} replies of {args.chars} characters, {args.people} people")
    print(f"seal, per reply: {_per_reply(seal_runs, args.replies)}")
    print(f"open, per reply: {_per_reply(open_runs, args.replies)}")
    print(f"blind index of a user id, per person: {_per_reply(index_runs, args.people)}")
    print(f"seal a user id, per new person: {_per_reply(identity_runs, args.people)}")
    print(f"keys for {args.people} new people, one transaction: {made * 1e3:.1f} ms")


if __name__ == "__main__":
    main()

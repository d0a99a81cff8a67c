"""Shared-document benchmark: TwinSpace RT against pycrdt-websocket and @y/websocket-server.

Three phases, each run on every server in turn, each server alone in its own process:

- relay: D documents x E editors, each editor inserting a small marker at a random place at a
  steady rate; latency from the edit to its arrival in every other replica, server CPU per
  delivered update, RSS with the documents open, convergence (every replica and a late joiner
  hold the same text), and for TwinSpace RT the updates found in its database afterwards.
- large: a document of ``--large-chars`` characters built through the server from
  ``--large-updates`` updates by several editors at random places; fresh replicas time their
  initial sync while the document is loaded, and for TwinSpace RT after it was unloaded (loaded
  again from the compacted snapshot and log).
- churn: ``--churn`` documents opened (one editor each, one edit), closed, and the server's RSS
  read before, while open, after closing and after the unload grace period, twice over.

    python bench/yjs_relay.py             # the issue's targets
    python bench/yjs_relay.py --quick     # a smoke run of a few minutes
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from editors import Address, Editors, shares
from runs import abort_after, cancel_abort, code_version, percentile, sleep_until
from servers import HOST, ServerProcess
from yjs_report import (
    NAMES,
    Result,
    YjsConfig,
    churn_table,
    large_table,
    ratio_lines,
    relay_table,
    verdicts,
)

YJS_KINDS = ("twinspace", "pycrdt", "yws")
CONNECT_CONCURRENCY = 32
SETTLE_SECONDS = 3.0


def now_us() -> int:
    """The clock the Node editors stamp edits with (CLOCK_MONOTONIC), in microseconds."""
    return time.monotonic_ns() // 1000


class Site:
    """How each server names a document and admits an editor.

    The baselines take any room name and no credentials; TwinSpace RT serves documents that
    exist in a project, to members holding a token (see ``seed.seed_documents``).
    """

    def __init__(self, kind: str, port: int, twinspace: Any = None) -> None:
        self.kind = kind
        self.port = port
        self.twinspace = twinspace

    def address(self, doc: str, editor: int) -> Address:
        if self.kind == "twinspace":
            project_id, token = self.twinspace.access(doc, editor)
            return Address(f"ws://{HOST}:{self.port}/yjs/{project_id}", doc, {"token": token})
        return Address(f"ws://{HOST}:{self.port}", doc, {})

    def seat(self, doc: str, editor: int) -> dict[str, Any]:
        return self.address(doc, editor).seat(doc, editor)


def relay_docs(docs: int, editors: int) -> list[str]:
    return [f"relay-{docs}x{editors}-{d}" for d in range(docs)]


def run_relay(
    kind: str,
    docs: int,
    editors: int,
    config: YjsConfig,
    work_dir: Path,
    env: dict[str, str],
    twinspace: Any,
) -> Result:
    """One server under D x E editors; figures cover the edits sent inside the window."""
    print(
        f"{NAMES[kind]}: {docs} documents x {editors} editors, {config.rate:g} edits/s each",
        flush=True,
    )
    names = relay_docs(docs, editors)
    with ExitStack() as stack:
        server = stack.enter_context(ServerProcess(kind, work_dir, env))
        site = Site(kind, server.port, twinspace)
        seats = [site.seat(name, e) for name in names for e in range(editors)]
        group = stack.enter_context(Editors(config.workers, work_dir, f"relay-{kind}"))
        time.sleep(SETTLE_SECONDS)
        rss_before = server.usage().rss_kib
        begun = time.monotonic()
        ready = []
        # Each document's first editor alone, then the others: pycrdt-websocket leaves a
        # connection unsynced for ever when two open a room at the same instant.
        for step in ([s for s in seats if s["editor"] == 0], [s for s in seats if s["editor"]]):
            ready += group.ask(
                [
                    {"op": "connect", "seats": part, "concurrency": CONNECT_CONCURRENCY}
                    for part in shares(step, config.workers)
                ],
                timeout=300,
            )
        connect_seconds = time.monotonic() - begun
        connected = sum(r["connected"] for r in ready)
        failed = [sample for r in ready for sample in r["samples"]]
        if failed:
            print(f"  {len(seats) - connected} editors failed to connect, e.g. {failed[:3]}")
        rss_open = server.usage().rss_kib
        start = now_us() + 500_000
        t0 = start + int(config.warmup * 1e6)
        t1 = t0 + int(config.duration * 1e6)
        group.tell_all(
            {
                "op": "edit",
                "start": start,
                "t0": t0,
                "t1": t1,
                "periodUs": int(1e6 / config.rate),
                "drainMs": int(config.drain * 1000),
            }
        )
        sleep_until(t0 * 1000, time.monotonic_ns)
        server0, load0 = server.usage(), group.cpu_seconds()
        sleep_until(t1 * 1000, time.monotonic_ns)
        server1, load1 = server.usage(), group.cpu_seconds()
        reports = group.gather(config.drain + 60)
        digests = group.ask_all({"op": "digest"}, timeout=60)
        late = group.ask(
            [
                {
                    "op": "verify",
                    "seats": [site.seat(name, editors) for name in names],
                    "concurrency": CONNECT_CONCURRENCY,
                }
            ],
            timeout=120,
        )
        group.ask_all({"op": "close"}, timeout=60)
        log_tail = server.log_tail(8)
    sent_in_window: defaultdict[str, int] = defaultdict(int)
    for report in reports:
        for doc, sent in report["sentInWindow"].items():
            sent_in_window[doc] += sent
    sent = sum(sent_in_window.values())
    expected = sent * (editors - 1)
    delivered = sum(r["delivered"] for r in reports)
    latencies = sorted(v for r in reports for v in r["latencies"])
    cpu = server1.cpu_seconds - server0.cpu_seconds
    result: Result = {
        "server": NAMES[kind],
        "docs": docs,
        "editors": editors,
        "connected": connected,
        "connect_seconds": connect_seconds,
        "sent": sent,
        "sent_total": sum(r["sentTotal"] for r in reports),
        "edits_per_s": sent / config.duration,
        "expected": expected,
        "delivered": delivered,
        "deliveries_per_s": delivered / config.duration,
        "missing": expected - delivered,
        "p50_ms": percentile(latencies, 0.50) / 1000,
        "p99_ms": percentile(latencies, 0.99) / 1000,
        "max_ms": percentile(latencies, 1.0) / 1000,
        "server_cpu_s": cpu,
        "server_cpu_percent": 100 * cpu / config.duration,
        "cpu_us_per_delivery": 1e6 * cpu / delivered if delivered else float("nan"),
        "cpu_us_per_edit": 1e6 * cpu / sent if sent else float("nan"),
        "rss_before_mib": rss_before / 1024,
        "rss_open_mib": rss_open / 1024,
        "rss_end_mib": server1.rss_kib / 1024,
        "kib_per_open_doc": (rss_open - rss_before) / docs,
        "converged": converged(digests, late, names),
        "generator_cpu_percent": 100 * (load1 - load0) / config.duration,
        "send_lag_p99_ms": percentile(sorted(v for r in reports for v in r["lags"]), 0.99) / 1000,
        "drops": sum(r["drops"] for r in reports),
        "errors": sum(r["errors"] for r in reports),
    }
    if kind == "twinspace":
        result["stored"] = twinspace.stored_updates(names)
    if result["drops"] or result["errors"] or result["missing"]:
        result["server_log_tail"] = log_tail
    print(
        f"  {result['deliveries_per_s']:.0f} deliveries/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, server CPU {result['server_cpu_percent']:.0f} %, "
        f"converged {result['converged']} of {docs}",
        flush=True,
    )
    return result


def converged(digests: list[Any], late: list[Any], names: list[str]) -> int:
    """Documents whose replicas and late joiner all hold the same, non-empty text."""
    hashes: defaultdict[str, set[str]] = defaultdict(set)
    for reply in digests + late:
        for replica in reply["replicas"]:
            hashes[replica.get("doc", "?")].add(replica.get("hash", "error"))
    return sum(len(hashes[name]) == 1 and "error" not in hashes[name] for name in names)


def run_large(
    kind: str, config: YjsConfig, work_dir: Path, env: dict[str, str], twinspace: Any
) -> Result:
    """Builds the large document through the server, then times fresh replicas' sync."""
    print(
        f"{NAMES[kind]}: large document, {config.large_chars:,} characters from "
        f"{config.large_updates:,} updates",
        flush=True,
    )
    name = "large"
    chunk = config.large_chars // config.large_updates
    result: Result = {"server": NAMES[kind]}
    with ExitStack() as stack:
        server = stack.enter_context(ServerProcess(kind, work_dir, env))
        site = Site(kind, server.port, twinspace)
        group = stack.enter_context(Editors(1, work_dir, f"large-{kind}"))
        builders = [site.seat(name, b) for b in range(config.large_builders)]
        cpu0 = server.usage().cpu_seconds
        built = group.ask(
            [
                {
                    "op": "build",
                    "seats": builders,
                    "updates": config.large_updates,
                    "chunk": chunk,
                    "round": 200,
                    "timeoutMs": 600_000,
                }
            ],
            timeout=660,
        )[0]
        result.update(
            build_seconds=built["seconds"],
            build_cpu_s=server.usage().cpu_seconds - cpu0,
            length=built["length"],
            rss_mib=server.usage().rss_kib / 1024,
        )
        probe = {
            "op": "probe",
            "seat": site.seat(name, config.large_builders),
            "repeat": config.probes,
            "length": built["length"],
        }
        result["warm_ms"] = group.ask([probe], timeout=300)[0]["timesMs"]
        group.ask([{"op": "close"}], timeout=60)
        if kind == "twinspace":
            cold = []
            for _ in range(config.cold_probes):
                time.sleep(twinspace.unload_seconds + SETTLE_SECONDS)
                cold += group.ask([probe | {"repeat": 1}], timeout=120)[0]["timesMs"]
            result["cold_ms"] = cold
            result["stored_snapshot"] = twinspace.snapshot_bytes(name)
    print(
        f"  built in {result['build_seconds']:.1f} s; warm sync median "
        f"{sorted(result['warm_ms'])[len(result['warm_ms']) // 2]:.1f} ms",
        flush=True,
    )
    return result


def run_churn(
    kind: str, config: YjsConfig, work_dir: Path, env: dict[str, str], twinspace: Any
) -> Result:
    """Opens and closes ``--churn`` documents, ``--churn-rounds`` times, reading RSS."""
    print(
        f"{NAMES[kind]}: {config.churn:,} documents opened and closed, "
        f"{config.churn_rounds} rounds",
        flush=True,
    )
    wait = twinspace.unload_seconds + SETTLE_SECONDS if twinspace else SETTLE_SECONDS
    rounds = []
    with ExitStack() as stack:
        server = stack.enter_context(ServerProcess(kind, work_dir, env))
        site = Site(kind, server.port, twinspace)
        group = stack.enter_context(Editors(config.workers, work_dir, f"churn-{kind}"))
        time.sleep(SETTLE_SECONDS)
        before = server.usage().rss_kib
        for r in range(config.churn_rounds):
            seats = [site.seat(f"churn-{r}-{i}", 0) for i in range(config.churn)]
            parts = shares(seats, config.workers)
            began = time.monotonic()
            opened = group.ask(
                [
                    {
                        "op": "connect",
                        "seats": part,
                        "concurrency": CONNECT_CONCURRENCY,
                        "touch": True,
                    }
                    for part in parts
                ],
                timeout=600,
            )
            open_seconds = time.monotonic() - began
            time.sleep(SETTLE_SECONDS)
            rss_open = server.usage().rss_kib
            group.ask_all({"op": "close"}, timeout=120)
            time.sleep(SETTLE_SECONDS)
            rss_closed = server.usage().rss_kib
            time.sleep(wait)
            rss_after = server.usage().rss_kib
            rounds.append(
                {
                    "opened": sum(o["connected"] for o in opened),
                    "open_seconds": open_seconds,
                    "rss_open_mib": rss_open / 1024,
                    "rss_closed_mib": rss_closed / 1024,
                    "rss_after_mib": rss_after / 1024,
                    "kib_per_open_doc": (rss_open - before) / config.churn,
                }
            )
            print(
                f"  round {r}: {rounds[-1]['opened']} opened in {open_seconds:.0f} s, RSS "
                f"{before / 1024:.0f} -> {rss_open / 1024:.0f} -> {rss_closed / 1024:.0f} -> "
                f"{rss_after / 1024:.0f} MiB",
                flush=True,
            )
    return {
        "server": NAMES[kind],
        "rss_before_mib": before / 1024,
        "wait_s": wait,
        "rounds": rounds,
    }


def parse_args(argv: list[str] | None = None) -> tuple[YjsConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--relay", default="20x10,1x50", help="comma-separated DOCSxEDITORS loads (empty: skip)"
    )
    parser.add_argument("--rate", type=float, default=5.0, help="edits per second per editor")
    parser.add_argument("--duration", type=float, default=30.0, help="measured window, seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="edits before the window")
    parser.add_argument("--drain", type=float, default=10.0, help="wait for late deliveries")
    parser.add_argument("--large-chars", type=int, default=200_000)
    parser.add_argument("--large-updates", type=int, default=20_000, help="0: skip")
    parser.add_argument("--large-builders", type=int, default=4)
    parser.add_argument("--probes", type=int, default=10, help="sync timings, document loaded")
    parser.add_argument("--cold-probes", type=int, default=3, help="after unload, TwinSpace RT")
    parser.add_argument("--churn", type=int, default=2000, help="documents opened (0: skip)")
    parser.add_argument("--churn-rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Node editor processes")
    parser.add_argument(
        "--servers", default=",".join(YJS_KINDS), help="comma-separated subset, ours first"
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument(
        "--timeout", type=float, default=2400.0, help="abort the whole run after this"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 4x5 and 1x10 for 5 s, 20 000 characters, 200 documents",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.relay, args.duration, args.warmup, args.drain = "4x5,1x10", 5.0, 2.0, 5.0
        args.large_chars, args.large_updates, args.probes, args.cold_probes = 20_000, 2000, 3, 1
        args.churn, args.churn_rounds = 200, 2
    loads = [tuple(int(n) for n in load.split("x")) for load in args.relay.split(",") if load]
    config = YjsConfig(
        loads=[(d, e) for d, e in loads],
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        drain=args.drain,
        large_chars=args.large_chars,
        large_updates=args.large_updates,
        large_builders=args.large_builders,
        probes=args.probes,
        cold_probes=args.cold_probes,
        churn=args.churn,
        churn_rounds=args.churn_rounds,
        workers=args.workers,
    )
    return config, args


def main(argv: list[str] | None = None) -> None:
    config, args = parse_args(argv)
    kinds = args.servers.split(",")
    abort_after(args.timeout)
    command = "python bench/yjs_relay.py " + " ".join(sys.argv[1:] if argv is None else argv)
    version = code_version()
    figures: dict[str, Any] = {"relay": {}, "large": [], "churn": []}
    with tempfile.TemporaryDirectory(prefix="twinspace-yjs-bench-") as tmp:
        work_dir = Path(tmp)
        twinspace = None
        envs = {kind: dict(os.environ) for kind in kinds}
        if "twinspace" in kinds:
            from seed import TwinSpaceDocs

            twinspace = TwinSpaceDocs.seed(work_dir / "data", secrets.token_urlsafe(32), config)
            envs["twinspace"] = twinspace.env()
        for docs, editors in config.loads:
            figures["relay"][f"{docs}x{editors}"] = [
                run_relay(kind, docs, editors, config, work_dir, envs[kind], twinspace)
                for kind in kinds
            ]
        if config.large_updates:
            figures["large"] = [
                run_large(kind, config, work_dir, envs[kind], twinspace) for kind in kinds
            ]
        if config.churn:
            figures["churn"] = [
                run_churn(kind, config, work_dir, envs[kind], twinspace) for kind in kinds
            ]
    cancel_abort()
    report = [f"`{command}` at `{version}`"]
    for load, results in figures["relay"].items():
        report += [
            "",
            f"Relay, {load} (documents x editors), {config.rate:g} edits/s each:",
            "",
            relay_table(results),
            "",
            ratio_lines(results),
        ]
    if figures["large"]:
        report += ["", large_table(figures["large"])]
    if figures["churn"]:
        report += ["", churn_table(figures["churn"])]
    if kinds[0] == "twinspace":
        report += ["", verdicts(figures, config)]
    print("\n" + "\n".join(report))
    if args.json:
        args.json.write_text(
            json.dumps({"version": version, "config": vars(config), **figures}, indent=2)
        )


if __name__ == "__main__":
    main()

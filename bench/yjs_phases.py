"""The three phases of ``yjs_relay.py``, each run on one server alone in its own process.

- ``run_relay``: D documents x E editors edit at a steady rate; latency, server CPU per
  delivered update, RSS, convergence, and for TwinSpace RT persistence (killed with SIGKILL and
  restarted before the late joiners sync).
- ``run_large``: a large document built through the server; fresh replicas time their sync.
- ``run_churn``: many documents opened and closed; RSS before, open, closed, after the grace.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editors import Address, Editors, Reply, shares
from report import Result
from runs import percentile, sleep_until
from seed import TwinSpaceDocs
from servers import HOST, ServerProcess
from yjs_report import NAMES, YjsConfig

CONNECT_CONCURRENCY = 32
SETTLE_SECONDS = 3.0
BUILD_ROUND = 200


@dataclass(frozen=True)
class Site:
    """How one running server names a document and admits an editor: the baselines take any
    room name and no credentials; TwinSpace RT serves its project's documents to members."""

    kind: str
    port: int
    twinspace: TwinSpaceDocs | None
    config: YjsConfig

    def seat(self, doc: str, editor: int) -> dict[str, Any]:
        if self.twinspace is None:
            address = Address(f"ws://{HOST}:{self.port}", doc, {})
        else:
            project_id, token = self.twinspace.access(doc, editor)
            address = Address(f"ws://{HOST}:{self.port}/yjs/{project_id}", doc, {"token": token})
        return address.seat(doc, editor, self.config.awareness, self.config.deflate)


@dataclass(frozen=True)
class Stage:
    """What every phase is given: where to work, and how to start each server."""

    config: YjsConfig
    work_dir: Path
    envs: dict[str, dict[str, str]]
    twinspace: TwinSpaceDocs | None

    def server(self, kind: str, phase: str) -> ServerProcess:
        return ServerProcess(kind, self.work_dir, self.envs[f"{kind}:{phase}"])

    def site(self, kind: str, server: ServerProcess) -> Site:
        twinspace = self.twinspace if kind == "twinspace" else None
        return Site(kind, server.port, twinspace, self.config)


def relay_docs(docs: int, editors: int) -> list[str]:
    return [f"relay-{docs}x{editors}-{d}" for d in range(docs)]


def connect(group: Editors, seats: list[dict[str, Any]], workers: int) -> tuple[int, list[str]]:
    """Each document's first editor alone, then the others: pycrdt-websocket leaves a
    connection unsynced for ever when two open the same new room at once."""
    replies: list[Reply] = []
    for step in ([s for s in seats if s["editor"] == 0], [s for s in seats if s["editor"]]):
        commands = [
            {"op": "connect", "seats": part, "concurrency": CONNECT_CONCURRENCY}
            for part in shares(step, workers)
        ]
        replies += group.ask(commands, timeout=300)
    return sum(r["connected"] for r in replies), [s for r in replies for s in r["samples"]]


def run_relay(kind: str, docs: int, editors: int, stage: Stage) -> Result:
    """One server under D x E editors; figures cover the edits sent inside the window."""
    config = stage.config
    print(f"{NAMES[kind]}: {docs} x {editors} editors, {config.rate:g} edits/s each", flush=True)
    names = relay_docs(docs, editors)
    with ExitStack() as stack:
        server = stack.enter_context(stage.server(kind, "relay"))
        site = stage.site(kind, server)
        group = stack.enter_context(Editors(config.workers, stage.work_dir, f"relay-{kind}"))
        time.sleep(SETTLE_SECONDS)
        rss_before = server.usage().rss_kib
        began = time.monotonic()
        connected, failures = connect(
            group, [site.seat(name, e) for name in names for e in range(editors)], config.workers
        )
        connect_seconds = time.monotonic() - began
        if failures:
            print(f"  {docs * editors - connected} editors failed, e.g. {failures[:3]}")
        rss_open = server.usage().rss_kib
        t0, t1 = group.start_editing(config.warmup, config.duration, config.rate, config.drain)
        sleep_until(t0 * 1000, time.monotonic_ns)
        server0, load0 = server.usage(), group.cpu_seconds()
        sleep_until(t1 * 1000, time.monotonic_ns)
        server1, load1 = server.usage(), group.cpu_seconds()
        machine_load = os.getloadavg()[0]
        reports = group.gather(config.drain + 60)
        digests = group.ask_all({"op": "digest"}, timeout=60)
        group.ask_all({"op": "close"}, timeout=60)
        log_tail = server.log_tail(8)
        if kind == "twinspace":
            # What the replicas hold must be what storage holds: crash, restart, then compare.
            server.kill()
            server = stack.enter_context(stage.server(kind, "relay"))
            site = stage.site(kind, server)
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
        "pending": sum(r["pending"] for r in reports),
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
        "replicas_agree": agreeing(digests, names),
        "converged": agreeing(digests + late, names),
        "generator_cpu_percent": 100 * (load1 - load0) / config.duration,
        "send_lag_p99_ms": percentile(sorted(v for r in reports for v in r["lags"]), 0.99) / 1000,
        "machine_load": machine_load,
        "drops": sum(r["drops"] for r in reports),
        "errors": sum(r["errors"] for r in reports),
    }
    written = sum(replica["written"] for reply in digests for replica in reply["replicas"])
    result["chars_written"] = written
    result["chars_served"] = sum(replica.get("length", 0) for replica in late[0]["replicas"])
    if stage.twinspace is not None and kind == "twinspace":
        result["log_rows"], result["compactions"] = stage.twinspace.update_log(names)
    if result["drops"] or result["errors"] or result["missing"]:
        result["server_log_tail"] = log_tail
        result["drop_samples"] = [sample for r in reports for sample in r["dropSamples"]][:5]
    print(
        f"  {result['deliveries_per_s']:.0f} deliveries/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, server CPU {result['server_cpu_percent']:.0f} %, "
        f"converged {result['converged']} of {docs}",
        flush=True,
    )
    return result


def agreeing(replies: list[Reply], names: list[str]) -> int:
    """Documents whose replicas in ``replies`` all hold the same text."""
    hashes: defaultdict[str, set[str]] = defaultdict(set)
    for reply in replies:
        for replica in reply["replicas"]:
            hashes[replica.get("doc", "?")].add(replica.get("hash", "error"))
    return sum(len(hashes[name]) == 1 and "error" not in hashes[name] for name in names)


def run_large(kind: str, stage: Stage) -> Result:
    """Builds the large document through the server, then times fresh replicas' sync."""
    config = stage.config
    print(
        f"{NAMES[kind]}: large document, {config.large_chars:,} characters from "
        f"{config.large_updates:,} updates",
        flush=True,
    )
    name = "large"
    result: Result = {"server": NAMES[kind]}
    with ExitStack() as stack:
        server = stack.enter_context(stage.server(kind, "large"))
        site = stage.site(kind, server)
        group = stack.enter_context(Editors(1, stage.work_dir, f"large-{kind}"))
        cpu0 = server.usage().cpu_seconds
        build = {
            "op": "build",
            "seats": [site.seat(name, b) for b in range(config.large_builders)],
            "updates": config.large_updates,
            "chunk": config.large_chars // config.large_updates,
            "round": BUILD_ROUND,
            "timeoutMs": 600_000,
        }
        built = group.ask([build], timeout=660)[0]
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
        probed = group.ask([probe], timeout=300)[0]
        result.update(
            warm_ms=probed["timesMs"], warm_step2_ms=probed["step2Ms"], apply_ms=probed["applyMs"]
        )
        group.ask_all({"op": "close"}, timeout=60)
        if stage.twinspace is not None and kind == "twinspace":
            cold: list[float] = []
            cold_step2: list[float] = []
            for _ in range(config.cold_probes):
                time.sleep(stage.twinspace.unload_seconds + SETTLE_SECONDS)
                probed = group.ask([probe | {"repeat": 1}], timeout=120)[0]
                cold += probed["timesMs"]
                cold_step2 += probed["step2Ms"]
            result.update(cold_ms=cold, cold_step2_ms=cold_step2)
            result["log_rows"], result["compactions"] = stage.twinspace.update_log([name])
    warm = sorted(result["warm_ms"])
    print(
        f"  built in {result['build_seconds']:.1f} s; sync median {warm[len(warm) // 2]:.1f} ms",
        flush=True,
    )
    return result


def run_churn(kind: str, stage: Stage) -> Result:
    """Opens and closes ``--churn`` documents, ``--churn-rounds`` times, reading RSS."""
    config = stage.config
    print(
        f"{NAMES[kind]}: {config.churn:,} documents opened and closed, "
        f"{config.churn_rounds} rounds",
        flush=True,
    )
    grace = stage.twinspace.unload_seconds if stage.twinspace is not None else 0.0
    rounds = []
    with ExitStack() as stack:
        server = stack.enter_context(stage.server(kind, "churn"))
        site = stage.site(kind, server)
        group = stack.enter_context(Editors(config.workers, stage.work_dir, f"churn-{kind}"))
        time.sleep(SETTLE_SECONDS)
        before = server.usage().rss_kib
        for r in range(config.churn_rounds):
            seats = [site.seat(f"churn-{r}-{i}", 0) for i in range(config.churn)]
            began = time.monotonic()
            opened = group.ask(
                [
                    {
                        "op": "connect",
                        "seats": part,
                        "concurrency": CONNECT_CONCURRENCY,
                        "touch": True,
                    }
                    for part in shares(seats, config.workers)
                ],
                timeout=600,
            )
            open_seconds = time.monotonic() - began
            time.sleep(SETTLE_SECONDS)
            rss_open = server.usage().rss_kib
            group.ask_all({"op": "close"}, timeout=120)
            time.sleep(SETTLE_SECONDS)
            rss_closed = server.usage().rss_kib
            time.sleep(grace + SETTLE_SECONDS)
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
                f"  round {r + 1}: {rounds[-1]['opened']} opened in {open_seconds:.0f} s, RSS "
                f"{before / 1024:.0f} -> {rss_open / 1024:.0f} -> {rss_closed / 1024:.0f} -> "
                f"{rss_after / 1024:.0f} MiB",
                flush=True,
            )
    return {"server": NAMES[kind], "rss_before_mib": before / 1024, "rounds": rounds}

"""``yjs_relay.py``'s figures as markdown: the comparison tables and the issue's targets."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from report import Result, Row, fmt, table

NAMES = {
    "twinspace": "TwinSpace RT",
    "pycrdt": "pycrdt-websocket",
    "yws": "@y/websocket-server",
}
TARGET_P99_MS = 50.0
TARGET_CPU_VS_PYCRDT = 0.5
TARGET_SYNC_MS = 100.0
MAIN_LOAD = (20, 10)
WIDE_LOAD = (1, 50)


@dataclass(frozen=True)
class YjsConfig:
    loads: list[tuple[int, int]]
    rate: float
    duration: float
    warmup: float
    drain: float
    large_chars: int
    large_updates: int
    large_builders: int
    probes: int
    cold_probes: int
    churn: int
    churn_rounds: int
    workers: int
    awareness: bool
    deflate: bool


def _stored(r: Result) -> str:
    """TwinSpace RT's late joiners sync from a restarted server after a SIGKILL."""
    if "log_rows" not in r:
        return "not persisted"
    return (
        f"{r['converged']} of {r['docs']} documents equal to the replicas after SIGKILL, "
        f"{r['chars_served']:,} of {r['chars_written']:,} characters typed "
        f"({r['sent_total']:,} edits); {r['log_rows']:,} log rows left, "
        f"{r['compactions']} compactions"
    )


RELAY_ROWS: list[Row] = [
    ("editors connected", lambda r: f"{r['connected']:,} in {r['connect_seconds']:.1f} s"),
    ("edits sent in window", lambda r: f"{r['sent']:,} ({fmt(r['edits_per_s'], 0)}/s)"),
    ("deliveries/s (to other editors)", lambda r: fmt(r["deliveries_per_s"], 0)),
    ("latency p50 (ms)", lambda r: fmt(r["p50_ms"])),
    ("latency p99 (ms)", lambda r: fmt(r["p99_ms"])),
    ("latency max (ms)", lambda r: fmt(r["max_ms"])),
    ("deliveries missing after the drain", lambda r: f"{r['missing']:,}"),
    ("arrivals leaving an update waiting for a dependency", lambda r: f"{r['pending']:,}"),
    (
        "documents converged: replicas / replicas and late joiner",
        lambda r: f"{r['replicas_agree']} / {r['converged']} of {r['docs']}",
    ),
    ("server CPU (% of one core)", lambda r: fmt(r["server_cpu_percent"], 0)),
    ("server CPU µs per delivered update", lambda r: fmt(r["cpu_us_per_delivery"])),
    ("server CPU µs per edit", lambda r: fmt(r["cpu_us_per_edit"])),
    (
        "server RSS before / open / end (MiB)",
        lambda r: (
            f"{fmt(r['rss_before_mib'])} / {fmt(r['rss_open_mib'])} / {fmt(r['rss_end_mib'])}"
        ),
    ),
    ("RSS per open document with its editors (KiB)", lambda r: fmt(r["kib_per_open_doc"], 0)),
    ("persisted (storage after SIGKILL = replicas)", _stored),
    ("dropped sockets / socket errors", lambda r: f"{r['drops']} / {r['errors']}"),
    ("load generator CPU (% of one core)", lambda r: fmt(r["generator_cpu_percent"], 0)),
    ("edit schedule lag p99 (ms)", lambda r: fmt(r["send_lag_p99_ms"])),
    ("machine load average (1 min) at the window's end", lambda r: fmt(r["machine_load"])),
]


def relay_table(results: list[Result]) -> str:
    return table(results, RELAY_ROWS)


def ratio_lines(results: list[Result]) -> str:
    ours = results[0]
    return "\n".join(
        f"{ours['server']} server CPU per delivered update vs {r['server']}: "
        f"{ours['cpu_us_per_delivery'] / r['cpu_us_per_delivery']:.2f}x"
        for r in results[1:]
    )


def _times(values: list[float]) -> str:
    return f"{fmt(median(values))} / {fmt(max(values))}" if values else "n/a"


def large_table(results: list[Result]) -> str:
    rows: list[Row] = [
        ("characters", lambda r: f"{r['length']:,}"),
        ("built in (s)", lambda r: fmt(r["build_seconds"])),
        ("server CPU while building (s)", lambda r: fmt(r["build_cpu_s"])),
        ("server RSS after building (MiB)", lambda r: fmt(r["rss_mib"])),
        (
            "document loaded: step 2 received, median / max (ms)",
            lambda r: _times(r["warm_step2_ms"]),
        ),
        (
            "document loaded: synced (step 2 applied), median / max (ms)",
            lambda r: _times(r["warm_ms"]),
        ),
        (
            "the client applying that state alone, median / max (ms)",
            lambda r: _times(r["apply_ms"]),
        ),
        (
            "after unload, from storage: step 2 received, median / max (ms)",
            lambda r: _times(r["cold_step2_ms"]) if "cold_ms" in r else "not persisted",
        ),
        (
            "after unload, from storage: synced, median / max (ms)",
            lambda r: _times(r["cold_ms"]) if "cold_ms" in r else "not persisted",
        ),
    ]
    return "Large document:\n\n" + table(results, rows)


def churn_table(results: list[Result]) -> str:
    lines = [
        "Documents opened and closed (one editor and one edit each):",
        "",
        "| | round | opened | RSS before (MiB) | open (MiB) | KiB per open document | "
        "closed (MiB) | after the grace period (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for i, one in enumerate(r["rounds"]):
            lines.append(
                f"| {r['server']} | {i + 1} | {one['opened']:,} | {fmt(r['rss_before_mib'])} | "
                f"{fmt(one['rss_open_mib'])} | {fmt(one['kib_per_open_doc'], 0)} | "
                f"{fmt(one['rss_closed_mib'])} | {fmt(one['rss_after_mib'])} |"
            )
    return "\n".join(lines)


def _find(results: list[Result], name: str) -> Result | None:
    return next((r for r in results if r["server"] == NAMES[name]), None)


def verdicts(figures: dict[str, Any], config: YjsConfig) -> str:
    """The issue's targets, each met or MISSED, from whichever phases were run."""
    checks: list[tuple[str, bool, str]] = []
    main = figures["relay"].get("{}x{}".format(*MAIN_LOAD))
    if main:
        ours, peer = _find(main, "twinspace"), _find(main, "pycrdt")
        if ours:
            checks.append(
                (
                    f"p99 <= {TARGET_P99_MS:.0f} ms at 20 x 10",
                    ours["p99_ms"] <= TARGET_P99_MS,
                    f"{ours['p99_ms']:.1f} ms",
                )
            )
            checks.append(
                (
                    "every update persisted",
                    "log_rows" in ours
                    and ours["converged"] == ours["docs"]
                    and ours["chars_served"] == ours["chars_written"],
                    f"after SIGKILL and restart, {ours['converged']} of {ours['docs']} documents "
                    f"hold every replica's text: {ours['chars_served']:,} of "
                    f"{ours['chars_written']:,} characters typed in {ours['sent_total']:,} edits",
                )
            )
        if ours and peer:
            ratio = ours["cpu_us_per_delivery"] / peer["cpu_us_per_delivery"]
            checks.append(
                (
                    "server CPU per delivered update <= half of pycrdt-websocket's",
                    ratio <= TARGET_CPU_VS_PYCRDT,
                    f"{ratio:.2f}x",
                )
            )
    wide = figures["relay"].get("{}x{}".format(*WIDE_LOAD))
    if wide:
        ours, ref = _find(wide, "twinspace"), _find(wide, "yws")
        if ours and ref:
            checks += [
                (
                    "1 x 50 no worse than @y/websocket-server: latency p99",
                    ours["p99_ms"] <= ref["p99_ms"],
                    f"{ours['p99_ms']:.1f} against {ref['p99_ms']:.1f} ms",
                ),
                (
                    "1 x 50 no worse than @y/websocket-server: server CPU per delivered update",
                    ours["cpu_us_per_delivery"] <= ref["cpu_us_per_delivery"],
                    f"{ours['cpu_us_per_delivery']:.1f} against "
                    f"{ref['cpu_us_per_delivery']:.1f} µs",
                ),
                (
                    "1 x 50 no worse than @y/websocket-server: every delivery made, converged",
                    ours["missing"] <= ref["missing"] and ours["converged"] >= ref["converged"],
                    f"{ours['missing']:,} missing, {ours['converged']} converged, against "
                    f"{ref['missing']:,} and {ref['converged']}",
                ),
            ]
    large = _find(figures["large"], "twinspace")
    if large and large.get("cold_ms"):
        worst, applied = max(large["cold_step2_ms"]), max(large["cold_ms"])
        checks.append(
            (
                f"large document initial sync <= {TARGET_SYNC_MS:.0f} ms after compaction",
                worst <= TARGET_SYNC_MS,
                f"step 2 received in {worst:.1f} ms at worst, loaded from storage; "
                f"{applied:.1f} ms until the client had applied it",
            )
        )
    return "\n".join(f"- {'met' if ok else 'MISSED'}: {name} ({seen})" for name, ok, seen in checks)

"""The benchmark's figures as markdown: the comparison tables and the issue's targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TARGET_P99_MS = 50.0
TARGET_EFFICIENCY_VS_SOCKETIO = 2.0
TARGET_IDLE_KIB = 40.0

Result = dict[str, Any]
Row = tuple[str, Callable[[Result], str]]


@dataclass(frozen=True)
class Config:
    rooms: int
    clients: int
    period: float
    duration: float
    warmup: float
    drain: float
    idle: int
    hold: int
    hold_seconds: float
    workers: int
    deflate: bool


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def table(results: list[Result], rows: list[Row]) -> str:
    """One column per server, one line per figure."""
    lines = ["| | " + " | ".join(r["server"] for r in results) + " |"]
    lines.append("|---" * (len(results) + 1) + "|")
    lines += [f"| {label} | " + " | ".join(cell(r) for r in results) + " |" for label, cell in rows]
    return "\n".join(lines)


def chat_table(results: list[Result]) -> str:
    rows: list[Row] = [
        ("clients connected", lambda r: f"{r['clients']:,} in {r['connect_seconds']:.0f} s"),
        ("messages sent in window", lambda r: f"{r['sent']:,}"),
        ("deliveries/s", lambda r: fmt(r["deliveries_per_s"], 0)),
        ("latency p50 (ms)", lambda r: fmt(r["p50_ms"])),
        ("latency p99 (ms)", lambda r: fmt(r["p99_ms"])),
        ("latency max (ms)", lambda r: fmt(r["max_ms"])),
        ("deliveries missing after the drain", lambda r: f"{r['undelivered']:,}"),
        ("server CPU (% of one core)", lambda r: fmt(r["server_cpu_percent"], 0)),
        ("server CPU s per 1 000 deliveries", lambda r: fmt(r["cpu_s_per_1000"], 3)),
        ("deliveries per server CPU-second", lambda r: fmt(r["deliveries_per_cpu_s"], 0)),
        ("server RSS (MiB)", lambda r: fmt(r["server_rss_mib"])),
        (
            "messages stored",
            lambda r: f"{r['stored']:,} of {r['sent_total']:,}" if "stored" in r else "none",
        ),
        ("error replies / dropped sockets", lambda r: f"{r['errors']} / {r['dropped']}"),
        ("load generator CPU (% of one core)", lambda r: fmt(r["generator_cpu_percent"], 0)),
        ("send schedule lag p99 (ms)", lambda r: fmt(r["send_lag_p99_ms"])),
    ]
    return table(results, rows)


def ratio_lines(results: list[Result]) -> str:
    ours = results[0]["deliveries_per_cpu_s"]
    return "\n".join(
        f"TwinSpace RT deliveries per server CPU-second vs {r['server']}: "
        f"{ours / r['deliveries_per_cpu_s']:.2f}x"
        for r in results[1:]
    )


def idle_table(results: list[Result]) -> str:
    lines = [
        "| | idle connections | RSS before (MiB) | RSS after (MiB) | KiB per connection |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['server']} | {r['idle_connected']:,} | {fmt(r['rss_before_mib'])} | "
        f"{fmt(r['rss_after_mib'])} | {fmt(r['kib_per_connection'])} |"
        for r in results
    ]
    ours = results[0]
    if "hold_connected" in ours:
        lines.append(
            f"\nTwinSpace RT held {ours['hold_connected']:,} connections on one process; "
            f"{ours['hold_open_at_end']:,} still open after the hold; RSS "
            f"{fmt(ours['hold_rss_mib'])} MiB; CPU while holding "
            f"{fmt(ours['hold_cpu_percent'], 0)} % of one core."
        )
    return "\n".join(lines)


def verdicts(chat: list[Result], idle: list[Result], config: Config) -> str:
    ours, socketio = chat[0], chat[1]
    efficiency = ours["deliveries_per_cpu_s"] / socketio["deliveries_per_cpu_s"]
    checks = [
        (
            f"p99 <= {TARGET_P99_MS:.0f} ms",
            ours["p99_ms"] <= TARGET_P99_MS,
            f"{ours['p99_ms']:.1f} ms",
        ),
        (
            f">= {TARGET_EFFICIENCY_VS_SOCKETIO:.0f}x python-socketio deliveries per CPU-second",
            efficiency >= TARGET_EFFICIENCY_VS_SOCKETIO,
            f"{efficiency:.2f}x",
        ),
        (
            f"idle connection <= {TARGET_IDLE_KIB:.0f} KiB RSS",
            idle[0]["kib_per_connection"] <= TARGET_IDLE_KIB,
            f"{idle[0]['kib_per_connection']:.1f} KiB",
        ),
    ]
    if "hold_connected" in idle[0]:
        held = idle[0]["hold_open_at_end"]
        checks.append((f"{config.hold:,} connections held", held >= config.hold, f"{held:,} open"))
    return "\n".join(f"- {'met' if ok else 'MISSED'}: {name} ({seen})" for name, ok, seen in checks)

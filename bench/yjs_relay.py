"""Shared-document benchmark: TwinSpace RT against pycrdt-websocket and @y/websocket-server.

Three phases, each run on every server in turn, each server alone in its own process:

- relay: D documents x E editors, each editor inserting a small marker at a random place at a
  steady rate; latency from the edit to its arrival in every other replica, server CPU per
  delivered update, RSS with the documents open, convergence (every replica and a late joiner
  hold the same text); TwinSpace RT is then killed with SIGKILL and restarted before the late
  joiners sync, so their text is what its storage kept.
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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from runs import abort_after, cancel_abort, code_version
from seed import TwinSpaceDocs
from servers import YJS_SERVER
from yjs_phases import Stage, relay_docs, run_churn, run_large, run_relay
from yjs_report import YjsConfig, churn_table, large_table, ratio_lines, relay_table, verdicts

YJS_KINDS = ("twinspace", "pycrdt", "yws")
PHASES = ("relay", "large", "churn")
UNLOAD_GRACE_SECONDS = 5.0


def document_names(config: YjsConfig) -> list[str]:
    """Every document the run opens, created up front in TwinSpace RT's project."""
    names = [name for docs, editors in config.loads for name in relay_docs(docs, editors)]
    names += ["large"] if config.large_updates else []
    names += [f"churn-{r}-{i}" for r in range(config.churn_rounds) for i in range(config.churn)]
    return names


def environments(kinds: list[str], twinspace: TwinSpaceDocs | None) -> dict[str, dict[str, str]]:
    """Each server's environment per phase. TwinSpace RT runs its defaults except a short unload
    grace (so the churn and cold-sync phases need not wait 30 s) and, for building the large
    document only, no per-socket rate limit (its builders burst thousands of updates)."""
    envs = {f"{kind}:{phase}": dict(os.environ) for kind in kinds for phase in PHASES}
    if twinspace is not None:
        envs |= {f"twinspace:{phase}": twinspace.env() for phase in PHASES}
        envs["twinspace:large"] = twinspace.env(
            docs_rate_per_second=1_000_000, docs_rate_burst=1_000_000
        )
    return envs


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
        "--no-deflate", action="store_true", help="editors do not offer permessage-deflate"
    )
    parser.add_argument(
        "--no-awareness",
        action="store_true",
        help="editors announce no presence (stock editors do: a cursor, renewed every 15 s)",
    )
    parser.add_argument(
        "--servers", default=",".join(YJS_KINDS), help="comma-separated subset, ours first"
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument(
        "--keep", type=Path, help="work here (database, server and editor logs) and keep it"
    )
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
        awareness=not args.no_awareness,
        deflate=not args.no_deflate,
    )
    return config, args


def main(argv: list[str] | None = None) -> None:
    config, args = parse_args(argv)
    if not YJS_SERVER.exists():
        sys.exit(f"{YJS_SERVER} is missing: run `npm ci` in {YJS_SERVER.parents[4]}")
    kinds = args.servers.split(",")
    abort_after(args.timeout)
    command = "python bench/yjs_relay.py " + " ".join(sys.argv[1:] if argv is None else argv)
    version = code_version()
    figures: dict[str, Any] = {"relay": {}, "large": [], "churn": []}
    with ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True)
            work_dir = args.keep.resolve()
        else:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="yjs-bench-")))
        twinspace = None
        if "twinspace" in kinds:
            editors = max([e for _, e in config.loads] + [config.large_builders]) + 1
            twinspace = TwinSpaceDocs.seed(
                work_dir / "data",
                secrets.token_urlsafe(32),
                document_names(config),
                editors,
                UNLOAD_GRACE_SECONDS,
            )
        stage = Stage(config, work_dir, environments(kinds, twinspace), twinspace)
        for docs, editors in config.loads:
            figures["relay"][f"{docs}x{editors}"] = [
                run_relay(kind, docs, editors, stage) for kind in kinds
            ]
        if config.large_updates:
            figures["large"] = [run_large(kind, stage) for kind in kinds]
        if config.churn:
            figures["churn"] = [run_churn(kind, stage) for kind in kinds]
    cancel_abort()
    report = [f"`{command}` at `{version}`"]
    for load, results in figures["relay"].items():
        report += [
            "",
            f"Relay, {load} (documents x editors), {config.rate:g} edits/s each"
            + ("" if config.awareness else ", editors without awareness")
            + ("" if config.deflate else ", no permessage-deflate offered")
            + ":",
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

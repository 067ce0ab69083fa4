"""τ-Argus (the ``pytauargus`` package) as the disclosure benchmark's baseline — BENCHMARK ONLY.

``pytauargus`` is licensed EUPL-1.2 (copyleft). It is a *dev* dependency of Lodeline, used only here and in
``tests/integration/test_disclosure_tauargus_baseline.py``; it is not vendored and ``src/lodeline`` never imports it.

The same contributions go to τ-Argus with the same primary rules, stated at the HOLDING level with ``member`` as
the holding variable, because Lodeline's rules count and rank members (a member's rows in the cells a margin adds
up are one contributor there). In τ-Argus' rule grammar the 3rd P, 3rd NK and 2nd FREQ rule are the holding-level
ones, hence the zero placeholders: ``P(0,0)|P(0,0)|P(p,1)|NK(0,0)|NK(0,0)|NK(n,k)|FREQ(0,0)|FREQ(f,range)``.
Secondary suppression is τ-Argus' modular method (``MOD``, HiTaS), the one meant for tables of this size; its
optimal method (``OPT``) solves one MIP over the whole table. The published pattern (cells τ-Argus marks primary
``U`` or secondary ``M`` withheld) is then attacked by Lodeline's own intruder audit."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from lodeline.stockpiles.audit import AuditReport, audit
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.disclosure_table import ALL, KEYS, build_table

WITHHELD = ("U", "M")  # τ-Argus intermediate status symbols: primary unsafe, secondary suppressed


def tau_safety_rules(rules: DisclosureRules) -> str:
    """Lodeline's primary rules in τ-Argus' batch grammar, at the holding (member) level."""
    values = {
        "p": rules.p_percent,
        "n": rules.dominance_n,
        "k": rules.dominance_k,
        "f": rules.min_frequency,
        "range": rules.frequency_range,
    }
    for name, v in values.items():
        if float(v) != int(v):
            raise ValueError(f"τ-Argus takes whole-number rule parameters; rules.{name} is {v}")
    ints = {name: int(v) for name, v in values.items()}
    return (
        f"P(0,0)|P(0,0)|P({ints['p']},1)|NK(0,0)|NK(0,0)|NK({ints['n']},{ints['k']})"
        f"|FREQ(0,0)|FREQ({ints['f']},{ints['range']})"
    )


def tauargus_published(
    contributions: pl.DataFrame, rules: DisclosureRules, method: str = "MOD(1)", workdir: str | None = None
) -> tuple[pl.DataFrame, float]:
    """The table as τ-Argus would publish it (``tonnes`` null where withheld, margins labelled ``ALL``) with a
    ``tau_status`` column, and the seconds τ-Argus took (writing its input files, primary and secondary)."""
    from pytauargus import protect  # imported here: a benchmark-only dependency (EUPL-1.2)

    micro = {k: contributions.get_column(k).to_list() for k in (*KEYS, "member", "tonnes")}
    workdir = str(Path(workdir or tempfile.mkdtemp(prefix="lodeline_tauargus_")).resolve())
    start = time.perf_counter()
    # the engine writes its logs (HiTaS.log, CSPlogfile.txt, …) to the current directory: keep them in workdir
    with contextlib.chdir(workdir):
        result = protect(
            micro,
            list(KEYS),
            response="tonnes",
            safety_rules=tau_safety_rules(rules),
            suppress=method,
            holding_var="member",
            decimals=1,
            totcode=ALL,
            workdir=workdir,
        )
    seconds = time.perf_counter() - start
    rows = result.tables[0].dataframe()
    frame = pl.DataFrame(rows) if isinstance(rows, list) else pl.from_pandas(rows)
    frame = frame.select(
        *KEYS,
        pl.when(pl.col("status").is_in(WITHHELD)).then(None).otherwise(pl.col("tonnes")).alias("tonnes"),
        pl.col("status").alias("tau_status"),
    )
    return frame, seconds


def tauargus_baseline(
    contributions: pl.DataFrame, rules: DisclosureRules, method: str = "MOD(1)", workdir: str | None = None
) -> tuple[dict[str, Any], AuditReport]:
    """Run τ-Argus on ``contributions``, audit its pattern with Lodeline's intruder audit, report the loss."""
    frame, tau_seconds = tauargus_published(contributions, rules, method, workdir)
    start = time.perf_counter()
    report = audit(frame.select(*KEYS, "tonnes"), contributions, rules)
    audit_seconds = time.perf_counter() - start
    withheld = frame.get_column("tonnes").is_null()
    status = frame.get_column("tau_status")
    # tonnes withheld: the true totals of the withheld cells, from the audit's own table (τ-Argus' file masks them)
    table = build_table(contributions, rules.dominance_n)
    idx = table.cell_index(frame.filter(withheld), what="τ-Argus pattern")
    return (
        {
            "method": method,
            "seconds_tauargus": round(tau_seconds, 2),
            "seconds_audit": round(audit_seconds, 2),
            "seconds": round(tau_seconds + audit_seconds, 2),
            "audit_passed": report.passed,
            "cells_under_protected": report.failures.height,
            "primary_cells": int((status == "U").sum()),
            "secondary_cells": int((status == "M").sum()),
            "cells_suppressed": int(withheld.sum()),
            "tonnes_suppressed": round(float(table.value[idx].sum()), 1),
        },
        report,
    )


#: Seconds the benchmark waits for τ-Argus on one table before it records that τ-Argus did not finish.
TIMEOUT_ENV = "LODELINE_BENCH_TAUARGUS_TIMEOUT"


def tauargus_in_subprocess(sizes: tuple[int, int, int], timeout: float | None = None) -> dict[str, Any]:
    """The same synthetic table (same seed) through τ-Argus in a child process, so a solve that does not end is
    cut off after ``timeout`` seconds (default ``$LODELINE_BENCH_TAUARGUS_TIMEOUT`` or 1800) and reported as such."""
    limit = float(os.environ.get(TIMEOUT_ENV, "1800")) if timeout is None else timeout
    cmd = [sys.executable, "-m", "benchmarks.tauargus_baseline", *(str(n) for n in sizes)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return {"method": "MOD(1)", "finished": False, "timeout_seconds": limit}
    if done.returncode != 0:
        return {"method": "MOD(1)", "finished": False, "error": done.stderr.strip().splitlines()[-1:]}
    return {"finished": True, **json.loads(done.stdout.strip().splitlines()[-1])}


def main(argv: list[str]) -> int:
    from benchmarks.bench_disclosure import synthetic_contributions

    minerals, groups, forms = (int(a) for a in argv)
    summary, _ = tauargus_baseline(synthetic_contributions(minerals, groups, forms), DisclosureRules())
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

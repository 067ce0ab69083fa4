"""How rule conditions run (lodeline.comply.rules): through cel-python's CompiledRunner, whatever parser tree class
cel-python built first; with the same verdicts as the InterpretedRunner on the shipped rules and on undecidable
expressions; safely from several threads; and with an exact memo (equal-looking values of other types do not share
a verdict)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import celpy
import pytest

from lodeline.comply import rules
from lodeline.comply.rules import FAIL, INSUFFICIENT, PASS, Evaluator, compile_condition, load_ruleset
from lodeline.services import comply as service

HEAD = "id: t\nversion: '1'\neffective: 2026-01-01\ntitle: t\nrules:\n"
_HIT = {"basis": "origin", "forced_labor": False, "child_labor": True, "forced_child_labor": False}

#: (condition, activation) pairs covering the shipped rules' forms and the undecidable cases.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("recycled_share >= 0.06", {"recycled_share": 0.06}),
    ("recycled_share >= 0.06", {"recycled_share": 0.0599}),
    ("opening_stock_share == 0.0", {"opening_stock_share": 0.0}),
    ("opening_stock_share == 0.0", {"opening_stock_share": 0.1}),
    ("size(expired_certifications) == 0", {"expired_certifications": []}),
    ("size(expired_certifications) == 0", {"expired_certifications": [{"facility": "f"}]}),
    ("!tvpra_hits.exists(h, h.forced_labor || h.forced_child_labor)", {"tvpra_hits": [_HIT]}),
    ("!tvpra_hits.exists(h, h.child_labor)", {"tvpra_hits": [_HIT]}),
    ("!tvpra_hits.exists(h, h.child_labor)", {"tvpra_hits": []}),
    ('origin_share_by_country["COD"] < 0.1', {"origin_share_by_country": {"AUS": 1.0}}),  # missing key
    ('origin_share_by_country["COD"] < 0.1', {"origin_share_by_country": {"COD": 0.05}}),
    ("recycled_share + 1.0", {"recycled_share": 0.2}),  # not a boolean
    ("recycled_share > 0", {"recycled_share": 0.2}),  # double ordered against an int literal
    ("tvpra_hits.exists(h, h.nope) || true", {"tvpra_hits": [_HIT]}),  # an error absorbed by ||
]


def _verdict(result_or_exc: Any) -> str:
    if isinstance(result_or_exc, Exception):
        return INSUFFICIENT
    if isinstance(result_or_exc, celpy.celtypes.BoolType):
        return PASS if bool(result_or_exc) else FAIL
    return INSUFFICIENT


def _run(program: Any, activation: dict[str, Any]) -> Any:
    try:
        return program.evaluate({k: celpy.json_to_cel(v) for k, v in activation.items()})
    except Exception as exc:
        return exc


@pytest.mark.parametrize(("condition", "activation"), CASES)
def test_compiled_and_interpreted_runners_agree(condition: str, activation: dict[str, Any]) -> None:
    program, _ = compile_condition(condition, "t.yaml", "r")
    assert isinstance(program, celpy.CompiledRunner)
    interpreted = celpy.InterpretedRunner(celpy.Environment(), celpy.Environment().compile(condition))
    assert _verdict(_run(program, activation)) == _verdict(_run(interpreted, activation))


def test_expected_verdicts_of_the_cases() -> None:
    """Hand-checked CEL semantics: 0.06 >= 0.06; 0.0599 < 0.06; a missing map key is undecidable; a double is
    ordered against an int literal (0.2 > 0, heterogeneous ordering); an error absorbed by `|| true` is true."""
    got = [_verdict(_run(compile_condition(c, "t.yaml", "r")[0], a)) for c, a in CASES]
    assert got == [
        PASS,
        FAIL,
        PASS,
        FAIL,
        PASS,
        FAIL,
        PASS,
        FAIL,
        PASS,
        INSUFFICIENT,
        PASS,
        INSUFFICIENT,
        PASS,
        PASS,
    ]


def test_compiled_runner_whatever_tree_class_the_shared_parser_was_built_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """cel-python keeps one class-level parser built with the first Environment's tree class; an interpreted
    Environment made first gives plain lark trees, on which the transpiler fails. Conditions must still compile."""
    monkeypatch.setattr(celpy.CELParser, "CEL_PARSER", None)
    celpy.Environment()  # rebuilds the shared parser with plain lark.Tree nodes
    assert type(rules._ENV.compile("true")).__name__ == "Tree"
    program, reads = compile_condition("recycled_share >= 0.06", "t.yaml", "r")
    assert isinstance(program, celpy.CompiledRunner) and reads == ("recycled_share",)
    assert _verdict(_run(program, {"recycled_share": 0.1})) == PASS


def test_every_shipped_rule_runs_compiled() -> None:
    for name in ("oecd-annex-ii-red-flags", "eu-battery-recycled-content", "us-forced-labour-import"):
        for rule in service.get_ruleset(name).rules:
            assert isinstance(rule.program, celpy.CompiledRunner), (name, rule.id)


def test_memo_keeps_values_of_other_types_apart() -> None:
    """1 (int) and 1.0 (double) look alike but CEL decides `x == 1.0` differently on them (int == double has no
    overload in cel-python: insufficient data); the memo must not hand one's verdict to the other."""
    ev = Evaluator(
        load_ruleset(
            HEAD + "  - {id: r, title: x, source: s, severity: low, condition: 'recycled_share == 1.0'}\n",
            "t.yaml",
        )
    )
    assert ev.evaluate({"recycled_share": 1.0})[0]["verdict"] == PASS
    assert ev.evaluate({"recycled_share": 1})[0]["verdict"] == INSUFFICIENT
    assert ev.evaluate({"recycled_share": True})[0]["verdict"] == INSUFFICIENT
    assert len(ev.cache) == 3


def test_evaluations_from_several_threads_stay_correct() -> None:
    """The compiled code keeps its activation in module globals; without the lock, a thread could read another
    thread's facts. Each thread checks its own lots' verdicts (no memo: a fresh evaluator per lot)."""
    rs = load_ruleset(
        HEAD + "  - {id: r, title: x, source: s, severity: low, condition: 'recycled_share >= 0.5'}\n",
        "t.yaml",
    )
    wrong: list[tuple[float, str]] = []

    def work(seed: int) -> None:
        for k in range(300):
            share = ((seed * 300 + k) % 100) / 100
            got = Evaluator(rs).evaluate({"recycled_share": share})[0]["verdict"]
            if got != (PASS if share >= 0.5 else FAIL):
                wrong.append((share, got))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch often: without the lock most runs fail
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []

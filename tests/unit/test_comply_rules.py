"""Rule sets (lodeline.comply.rules): load-time rejection naming file, rule and reason; verdict semantics
(insufficient data is never a pass); each shipped rule on a constructed passing and failing lot; the battery
minimums equal the bundled policy_facts file; screening exact, fuzzy and non-matching names with the explanation."""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from lodeline.comply import screening
from lodeline.comply.facts import FACT_NAMES
from lodeline.comply.rules import FAIL, INSUFFICIENT, PASS, Evaluator, RuleSetError, load_ruleset
from lodeline.services import comply as service

HEAD = "id: t\nversion: '1'\neffective: 2026-01-01\ntitle: t\nrules:\n"


def _one(condition: str, extra: str = "") -> str:
    return HEAD + f"  - {{id: r1, title: x, source: s, severity: low, condition: '{condition}'{extra}}}\n"


@pytest.mark.parametrize(
    ("text", "rule", "reason"),
    [
        (_one("recycled_share >="), "r1", "CEL syntax error"),
        (_one("recycled_sharez >= 0.1"), "r1", "unknown fact(s) ['recycled_sharez']"),
        (_one("tvpra_hits.exists(recycled_share, true)"), "r1", "may not shadow a fact"),
        (
            _one("true", ", severity: urgent"),
            None,
            None,
        ),  # duplicate key in a flow mapping: YAML keeps the last
        (
            HEAD
            + "  - {id: a, title: x, source: s, severity: low, condition: 'true', requires: [b]}\n"
            + "  - {id: b, title: x, source: s, severity: low, condition: 'true', requires: [a]}\n",
            "b",
            "requires forms a cycle: a -> b -> a",
        ),
        (
            HEAD + "  - {id: a, title: x, source: s, severity: low, condition: 'true', requires: [zz]}\n",
            "a",
            "requires unknown rule(s) ['zz']",
        ),
        (HEAD + "  - {id: a, title: x, severity: low, condition: 'true'}\n", "a", "source"),
        (
            HEAD
            + "  - {id: a, title: x, source: s, severity: low, condition: 'true'}\n"
            + "  - {id: a, title: x, source: s, severity: low, condition: 'true'}\n",
            "a",
            "duplicate rule id",
        ),
    ],
)
def test_bad_rule_sets_are_rejected_naming_file_rule_and_reason(
    text: str, rule: str | None, reason: str | None
) -> None:
    if reason is None:  # severity overridden by the later key: not one of high/medium/low
        with pytest.raises(RuleSetError, match="severity must be one of"):
            load_ruleset(text, "bad.yaml")
        return
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(text, "bad.yaml")
    err = caught.value
    assert err.source == "bad.yaml" and err.rule == rule and reason in err.reason
    assert str(err).startswith(f"bad.yaml, rule {rule!r}: ")


def test_not_yaml_and_too_large_are_refused() -> None:
    with pytest.raises(RuleSetError, match=r"bad\.yaml: not valid YAML"):
        load_ruleset("id: [", "bad.yaml")
    with pytest.raises(RuleSetError, match=r"big\.yaml"):
        load_ruleset("x" * 300_000, "big.yaml")


def test_absent_fact_is_insufficient_data_never_pass() -> None:
    rs = load_ruleset(_one("size(entity_hits) == 0"), "t.yaml")
    ev = Evaluator(rs)
    assert ev.evaluate({"entity_hits": []})[0]["verdict"] == PASS
    absent = ev.evaluate({"entity_hits": None})[0]
    assert absent["verdict"] == INSUFFICIENT and absent["reason"] == "absent fact(s): entity_hits"
    assert ev.evaluate({})[0]["verdict"] == INSUFFICIENT
    # an undecidable expression (missing map key) and a non-boolean result are insufficient data too
    keyed = Evaluator(load_ruleset(_one('origin_share_by_country["COD"] < 0.1'), "t.yaml"))
    assert keyed.evaluate({"origin_share_by_country": {"AUS": 1.0}})[0]["verdict"] == INSUFFICIENT
    number = Evaluator(load_ruleset(_one("recycled_share + 1.0"), "t.yaml"))
    assert number.evaluate({"recycled_share": 0.2})[0]["verdict"] == INSUFFICIENT


def test_a_rule_requiring_an_unpassed_rule_is_insufficient() -> None:
    rs = load_ruleset(
        HEAD
        + "  - {id: b, title: x, source: s, severity: low, condition: 'recycled_share > 0.5', requires: [a]}\n"
        + "  - {id: a, title: x, source: s, severity: low, condition: 'opening_stock_share == 0.0'}\n",
        "t.yaml",
    )
    assert [r.id for r in rs.rules] == ["a", "b"]  # evaluation order follows requires
    out = Evaluator(rs).evaluate({"recycled_share": 0.9, "opening_stock_share": 0.2})
    assert [(v["rule"], v["verdict"]) for v in out] == [("a", FAIL), ("b", INSUFFICIENT)]


def _lot(**over: Any) -> dict[str, Any]:
    """The facts of a constructed clean lot (every fact present); ``over`` replaces some."""
    base: dict[str, Any] = {name: None for name in FACT_NAMES}
    base.update(
        lot="urn:test:lot",
        mineral="lithium",
        material="nmc811_cathode",
        stage="materials",
        contained_metal_kg=1000.0,
        check_date="2026-12-05",
        origin_countries=["AUS"],
        origin_share_by_country={"AUS": 1.0},
        origin_share_by_facility={"f1": 1.0},
        certified_share=1.0,
        certified_at_origin_share=1.0,
        recycled_share=0.5,
        post_consumer_recycled_share=0.5,
        opening_stock_share=0.0,
        path_countries=["AUS", "KOR"],
        custody_models=["segregated"],
        facilities=[],
        expired_certifications=[],
        tvpra_edition="test",
        tvpra_hits=[],
        entity_lists=["TEST"],
        entity_hits=[],
        xinjiang_box_facilities=[],
        wgi_year=2023,
        wgi_by_country={"AUS": {"pv": 0.9, "rl": 1.5}, "KOR": {"pv": 0.6, "rl": 1.1}},
        path_min_wgi_pv=0.6,
        origin_min_wgi_rl=1.5,
    )
    base.update(over)
    return base


_HIT = {
    "good": "Cobalt ore (heterogenite)",
    "country": "COD",
    "basis": "origin",
    "share": 0.3,
    "child_labor": True,
    "forced_labor": True,
    "forced_child_labor": True,
    "derived_from": None,
    "edition": "t",
}
_ENTITY = {
    "party_role": "operator",
    "party": "p",
    "name": "n",
    "list": "L",
    "listed_name": "n",
    "matched": "n",
    "source": "",
    "score": 100.0,
    "threshold": 90.0,
    "exact": True,
}

#: rule set -> rule -> (facts that fail it) — the constructed failing lot for each shipped rule.
FAILING: dict[str, dict[str, dict[str, Any]]] = {
    "oecd-annex-ii-red-flags": {
        "origin-traced": {"opening_stock_share": 0.05},
        "no-high-risk-area": {"path_min_wgi_pv": -1.8},
        "no-worst-forms-of-labour-at-origin": {"tvpra_hits": [_HIT]},
        "certifications-current": {
            "expired_certifications": [{"facility": "f1", "scheme": "IRMA", "valid_to": "2026-05-31"}]
        },
        "weak-rule-of-law-at-origin": {"origin_min_wgi_rl": -1.4},
    },
    "eu-battery-recycled-content": {
        "cobalt-2031": {"mineral": "cobalt", "recycled_share": 0.15},
        "cobalt-2036": {"mineral": "cobalt", "recycled_share": 0.25},
        "lithium-2031": {"recycled_share": 0.059},
        "lithium-2036": {"recycled_share": 0.11},
        "nickel-2031": {"mineral": "nickel", "recycled_share": 0.05},
        "nickel-2036": {"mineral": "nickel", "recycled_share": 0.14},
        "origin-traced": {"opening_stock_share": 0.01},
    },
    "us-forced-labour-import": {
        "tvpra-forced-labour": {"tvpra_hits": [_HIT]},
        "tvpra-child-labour": {"tvpra_hits": [{**_HIT, "forced_labor": False, "forced_child_labor": False}]},
        "uflpa-entity-screen": {"entity_hits": [_ENTITY]},
        "uflpa-region": {"xinjiang_box_facilities": ["f9"]},
    },
}
PASSING_MINERAL = {
    "cobalt-2031": "cobalt",
    "cobalt-2036": "cobalt",
    "nickel-2031": "nickel",
    "nickel-2036": "nickel",
}


@pytest.mark.parametrize(("ruleset", "rule"), [(rs, rule) for rs, rules in FAILING.items() for rule in rules])
def test_each_shipped_rule_passes_and_fails_on_constructed_lots(ruleset: str, rule: str) -> None:
    rs = service.get_ruleset(ruleset)
    assert {r.id for r in rs.rules} == set(FAILING[ruleset])  # every shipped rule has its constructed case
    ev = Evaluator(rs)
    passing = _lot(mineral=PASSING_MINERAL.get(rule, "lithium"))
    verdicts = {v["rule"]: v for v in ev.evaluate(passing)}
    assert verdicts[rule]["verdict"] == PASS, verdicts[rule]
    failing = {v["rule"]: v for v in ev.evaluate(_lot(**FAILING[ruleset][rule]))}
    assert failing[rule]["verdict"] == FAIL, failing[rule]
    absent = {
        v["rule"]: v
        for v in ev.evaluate(_lot(mineral=passing["mineral"], **{n: None for n in rs_reads(rs, rule)}))
    }
    assert absent[rule]["verdict"] == INSUFFICIENT


def rs_reads(rs: Any, rule: str) -> tuple[str, ...]:
    return next(r.reads for r in rs.rules if r.id == rule)


def test_battery_minimums_equal_the_bundled_policy_facts() -> None:
    """Hand check against data/raw/policy_facts/targets_and_commitments.csv: rows eu-battery-recycled-content-
    {co,li,ni}-2031 give the 2031 minimum in ``value`` (16, 6, 6 % by weight) and the 2036 one in ``note``
    ("26% from 2036", "12% …", "15% …"); the rule conditions hold the same fractions."""
    path = resources.files("lodeline") / "data" / "raw" / "policy_facts" / "targets_and_commitments.csv"
    rows = {r["target_id"]: r for r in csv.DictReader(path.read_text(encoding="utf-8").splitlines())}
    rs = service.get_ruleset("eu-battery-recycled-content")
    conditions = {r.id: r.condition for r in rs.rules}
    for code, mineral in (("co", "cobalt"), ("li", "lithium"), ("ni", "nickel")):
        row = rows[f"eu-battery-recycled-content-{code}-2031"]
        assert "Art. 8" in row["instrument"]
        later = float(re.match(r"(\d+)% from 2036", row["note"]).group(1))  # type: ignore[union-attr]
        assert conditions[f"{mineral}-2031"] == f"recycled_share >= {float(row['value']) / 100:g}"
        assert conditions[f"{mineral}-2036"] == f"recycled_share >= {later / 100:g}"


def test_bundled_tvpra_edition_and_known_entries() -> None:
    """PROVENANCE.txt: 467 good x country rows; cobalt ore (heterogenite) is listed for the DRC for child labour."""
    tv = service.bundled_tvpra()
    assert len(tv.entries) == 467 and "2022 (10th) edition" in tv.edition
    hits = screening.tvpra_hits(tv, "cobalt", {"COD": 0.4, "AUS": 0.6}, [("cell_plant", "CHN")])
    assert [(h["good"], h["country"], h["basis"], h["child_labor"], h["forced_labor"]) for h in hits] == [
        ("Cobalt ore (heterogenite)", "COD", "origin", True, False),
        (
            "Lithium-Ion Batteries",
            "CHN",
            "made",
            False,
            False,
        ),  # listed as derived from DRC cobalt, not FL/CL
    ]
    made = screening.tvpra_hits(tv, "lithium", {"AUS": 1.0}, [("cell_plant", "CHN"), ("refinery", "CHN")])
    assert [(h["good"], h["basis"], h["derived_from"]) for h in made] == [
        ("Lithium-Ion Batteries", "made", "Congo, Democratic Republic of the")
    ]


def test_newer_tvpra_edition_as_a_file(tmp_path: Path) -> None:
    f = tmp_path / "tvpra_2024.csv"
    f.write_text(
        "good,good_sector,Country_Name,Country_Region,Child_Labor,Forced_Labor,Forced_Child_Labor,"
        "Derived_Labor_Exploitation,Derived_Country\nNickel,Mining,Indonesia,Indo-Pacific,No,Yes,No,No,No\n"
    )
    tv = service.tvpra_from_file(f, "2024 (11th) edition")
    assert tv.edition == "2024 (11th) edition" and tv.entries[0].country == "IDN"
    f.write_text("good,Country_Name\nNickel,Indonesia\n")
    with pytest.raises(Exception, match="not a TVPRA list file, missing columns"):
        service.tvpra_from_file(f)
    f.write_text(
        "good,good_sector,Country_Name,Child_Labor,Forced_Labor,Forced_Child_Labor\nNickel,Mining,Indonesia,No,Maybe,No\n"
    )
    with pytest.raises(Exception, match="row 2 column Forced_Labor: expected Yes or No"):
        service.tvpra_from_file(f)


def test_entity_screen_exact_fuzzy_and_no_match() -> None:
    listed = screening.parse_entity_list(
        "name,aliases,list,source\n"
        "Xinjiang Hoshine Silicon Industry Co. Ltd.,Hoshine Silicon,UFLPA-TEST,constructed row\n"
        "Ningbo Nickel Sulphate Co,,OTHER,constructed\n",
        "entities.csv",
    )
    index = screening.index_entities(listed)
    parties = [
        ("operator", "p1", "Ningbo Nickel Sulphate"),  # exact after normalisation (company suffix dropped)
        ("operator", "p2", "Hoshine Silicon Industry (Xinjang)"),  # reordered and misspelt: fuzzy
        ("operator", "p3", "Pilbara Spodumene Pty"),  # no match
    ]
    hits = screening.screen_names(parties, index, 90.0)
    by_party = {h["party"]: h for h in hits}
    assert set(by_party) == {"p1", "p2"}
    assert by_party["p1"]["exact"] and by_party["p1"]["score"] == 100.0 and by_party["p1"]["list"] == "OTHER"
    fuzzy = by_party["p2"]
    assert not fuzzy["exact"] and 90.0 <= fuzzy["score"] < 100.0 and fuzzy["threshold"] == 90.0
    assert (fuzzy["list"], fuzzy["listed_name"]) == (
        "UFLPA-TEST",
        "Xinjiang Hoshine Silicon Industry Co. Ltd.",
    )
    assert screening.screen_names(parties[2:], index, 60.0) == []  # nothing near "pilbara spodumene"
    with pytest.raises(Exception, match=r"entities\.csv row 2 column list: empty"):
        screening.parse_entity_list("name,aliases,list,source\nX,,,\n", "entities.csv")
    with pytest.raises(Exception, match="missing \\['aliases'\\]"):
        screening.parse_entity_list("name,list,source\nX,L,\n", "entities.csv")


def test_loading_rules_leaves_the_process_recursion_limit_alone() -> None:
    """cel-python raises the process-wide recursion limit to 2500 when an Environment is made; the rest of the
    process (the API's JSON nesting refusal among it) keeps the default, so the rules module puts it back and raises
    it only while a condition compiles. A condition nested too deeply is a rule-set error naming the rule."""
    import sys

    from lodeline.comply.rules import RuleSetError, compile_condition

    before = sys.getrecursionlimit()
    compile_condition("(" * 30 + "1 == 1" + ")" * 30, "x.yaml", "r1")
    assert sys.getrecursionlimit() == before
    with pytest.raises(RuleSetError, match=r"r1.*nested too deeply"):
        compile_condition("(" * 400 + "1 == 1" + ")" * 400, "x.yaml", "r1")
    assert sys.getrecursionlimit() == before

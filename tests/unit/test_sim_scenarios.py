"""Scenario validation: bad scenarios are rejected with the field named; the shipped library is valid."""

from __future__ import annotations

import pytest

from lodeline.errors import LodelineError
from lodeline.sim.compile import network_from_spec, scenario_shocks
from lodeline.sim.exercise import parse_script
from lodeline.sim.scenario import ScenarioError, library_scenarios, parse_scenario, scenario_from_text

GOOD = {
    "name": "ok",
    "mineral": "graphite",
    "disruptions": [{"country": "China", "stage": "mining", "cut": 0.5, "duration_months": 3}],
}


def _with_disruption(**fields: object) -> dict:
    d = dict(GOOD["disruptions"][0])  # type: ignore[index]
    d.update(fields)
    return {**GOOD, "disruptions": [d]}


def test_good_scenario_resolves_names() -> None:
    sc = parse_scenario(GOOD)
    assert sc.mineral == "graphite"
    assert sc.disruptions[0].country == "CHN"
    assert "USA" in sc.alliance_members()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (_with_disruption(country="Atlantis"), "disruptions.0.country", "unknown country"),
        (_with_disruption(cut=1.5), "disruptions.0.cut", "less than or equal to 1"),
        (_with_disruption(cut=-0.1), "disruptions.0.cut", "greater than or equal to 0"),
        (_with_disruption(duration_months=-2), "disruptions.0.duration_months", "greater than or equal to 1"),
        ({**GOOD, "mineral": "unobtainium"}, "mineral", "unknown mineral"),
        (_with_disruption(stage="smelting"), "disruptions.0.stage", "mining"),
        (_with_disruption(to=["Narnia"]), "disruptions.0.to", "unknown country"),
        ({**GOOD, "alliance": "G99"}, "alliance", "unknown country group"),
        ({**GOOD, "horizon_months": 0}, "horizon_months", "greater than or equal to 1"),
        ({**GOOD, "response": {"priority": {"USA": -1}}}, "response.priority", "must be > 0"),
        ({**GOOD, "montecarlo": {"correlation": 1.0}}, "montecarlo.correlation", "less than 1"),
        ({**GOOD, "surprise": 1}, "surprise", "Extra inputs"),
        (
            {**GOOD, "demand_shocks": [{"change": -1.5, "duration_months": 2}]},
            "demand_shocks.0.change",
            "greater than -1",
        ),
    ],
)
def test_bad_scenarios_name_the_field(data: dict, field: str, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "bad.yaml")
    assert info.value.field == field
    assert words in info.value.message
    assert info.value.message.startswith("bad.yaml: field ")
    assert isinstance(info.value, LodelineError) and info.value.code == "sim-scenario"


def test_start_after_horizon_is_rejected() -> None:
    with pytest.raises(ScenarioError, match="after the horizon"):
        parse_scenario({**_with_disruption(start_month=20), "horizon_months": 12})


def test_yaml_syntax_error_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="not valid YAML"):
        scenario_from_text("name: [unclosed", "broken.yaml")


def test_country_without_a_node_is_rejected_against_the_network() -> None:
    data = {
        "name": "x",
        "mineral": "gallium",
        "alliance": ["USA"],
        "disruptions": [{"country": "PER", "stage": "refining", "cut": 0.5, "duration_months": 2}],
        "network": {
            "stages": [{"name": "refining", "nodes": [{"country": "CHN", "output": 10}]}],
            "consumers": [{"country": "USA"}],
            "flows": [{"source": "refining:CHN", "target": "consumer:USA", "tonnes": 10}],
        },
    }
    sc = parse_scenario(data)
    assert sc.network is not None
    net = network_from_spec(sc.network, sc.mineral, sc.alliance_members(), "x.yaml")
    with pytest.raises(ScenarioError) as info:
        scenario_shocks(net, sc, "x.yaml")
    assert info.value.field == "disruptions.0.country"
    assert "PER has no refining node" in info.value.message


def test_inline_network_flow_to_unknown_node_is_rejected() -> None:
    data = {
        "name": "x",
        "mineral": "gallium",
        "network": {
            "stages": [{"name": "refining", "nodes": [{"country": "CHN", "output": 10}]}],
            "consumers": [{"country": "USA"}],
            "flows": [{"source": "refining:JPN", "target": "consumer:USA", "tonnes": 10}],
        },
    }
    sc = parse_scenario(data)
    assert sc.network is not None
    with pytest.raises(ScenarioError) as info:
        network_from_spec(sc.network, sc.mineral, sc.alliance_members(), "x.yaml")
    assert info.value.field == "network.flows.0.source"


def test_library_is_valid_and_cites_sources() -> None:
    library = library_scenarios()
    assert {
        "cn-gallium-germanium-2023",
        "cn-graphite-2023",
        "cn-rare-earths-magnets-2025",
        "id-nickel-ore-export-ban",
        "cd-cobalt-export-suspension-2025",
        "cl-ar-lithium-disruption",
    } <= set(library)
    for name, text in library.items():
        sc = scenario_from_text(text, name)
        assert sc.source.strip(), f"{name} lacks a source note"
        assert sc.disruptions
    # the Chinese measures cite the bundled measures file by id
    assert "ctl-cn-gage-2023-export-licensing" in library["cn-gallium-germanium-2023"]
    assert "ctl-cn-graphite-2023-export-licensing" in library["cn-graphite-2023"]
    assert "ctl-cn-ree-2025-04-export-licensing" in library["cn-rare-earths-magnets-2025"]


def test_exercise_script_errors_name_the_field() -> None:
    script = {
        "name": "t",
        "scenario": "cn-graphite-2023",
        "decisions": [{"month": 1, "participant": "USA", "action": "release"}],
    }
    with pytest.raises(ScenarioError) as info:
        parse_script(script, "ex.yaml")
    assert info.value.field == "decisions.0.tonnes"
    with pytest.raises(ScenarioError) as info:
        parse_script({**script, "scenario": "no-such"}, "ex.yaml")
    assert info.value.field == "scenario"
    with pytest.raises(ScenarioError) as info:
        parse_script(
            {**script, "decisions": [{"month": 0, "participant": "USA", "action": "ration"}]}, "ex.yaml"
        )
    assert info.value.field == "decisions.0.month"

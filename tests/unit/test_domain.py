from __future__ import annotations

import pytest

from lodeline.domain.countries import iso2_to_iso3, resolve_country
from lodeline.domain.groups import get_group
from lodeline.domain.minerals import Stage, hs_index, resolve_mineral, resolve_stage
from lodeline.errors import InvalidArgumentError, UnknownCountryError, UnknownGroupError, UnknownMineralError


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("China", "CHN"),
        ("Congo (Kinshasa)", "COD"),
        ("Burma", "MMR"),
        ("Korea, Republic of", "KOR"),
        ("Côte d'Ivoire", "CIV"),
        ("United States", "USA"),
        ("DEU", "DEU"),
        ("Russia", "RUS"),
    ],
)
def test_country_names_resolve_to_iso3(name: str, iso3: str) -> None:
    assert resolve_country(name) == iso3


def test_unknown_country_is_rejected_with_suggestions() -> None:
    with pytest.raises(UnknownCountryError) as info:
        resolve_country("Chinna")
    assert "china" in info.value.message.lower()


def test_iso2() -> None:
    assert iso2_to_iso3("CN") == "CHN"
    with pytest.raises(UnknownCountryError):
        iso2_to_iso3("QQ")


@pytest.mark.parametrize(
    ("alias", "mineral"),
    [("REE", "rare-earths"), ("rare earths", "rare-earths"), ("graphite", "graphite"), ("Li", "lithium")],
)
def test_mineral_aliases(alias: str, mineral: str) -> None:
    assert resolve_mineral(alias) == mineral


def test_unknown_mineral_lists_suggestions() -> None:
    with pytest.raises(UnknownMineralError) as info:
        resolve_mineral("lithum")
    assert "lithium" in info.value.details["suggestions"]


def test_stages() -> None:
    assert resolve_stage("Refining") is Stage.REFINING
    with pytest.raises(InvalidArgumentError):
        resolve_stage("smelting-ish")


def test_default_alliance_is_g7_eu_and_australia() -> None:
    g7plus = get_group("g7+").members
    assert {"USA", "JPN", "DEU", "FRA", "AUS", "POL", "CAN", "GBR"} <= g7plus
    assert "CHN" not in g7plus
    assert len(get_group("EU27").members) == 27
    assert len(get_group("G7+").members) == 27 + 4 + 1  # EU27 + CAN, JPN, GBR, USA + AUS
    with pytest.raises(UnknownGroupError):
        get_group("G77777")


def test_hs_codes_map_to_minerals_and_stages() -> None:
    index = hs_index()
    assert ("rare-earths", Stage.COMPONENT) in index["850511"]
    assert [m for m, _ in index["811292"]] == ["gallium-germanium-group"]  # one broad HS group, never split

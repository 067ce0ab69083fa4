"""docs/comply.md lists exactly the facts schema (lodeline.comply.facts.FACTS), and every bundled rule set."""

from __future__ import annotations

import re
from pathlib import Path

from lodeline.comply.facts import FACTS
from lodeline.services import comply as service

DOC = Path(__file__).parents[2] / "docs" / "comply.md"


def test_facts_table_equals_the_schema() -> None:
    text = DOC.read_text(encoding="utf-8").split("## The facts a rule can read")[1].split("\n## ")[0]
    table = re.findall(r"^\| `([a-z_0-9]+)` \| ([^|]+) \|", text, flags=re.M)
    assert [(name, kind.strip()) for name, kind in table] == [(f.name, f.type) for f in FACTS]


def test_every_bundled_rule_set_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rs in service.list_rulesets():
        assert f"`{rs['id']}`" in text

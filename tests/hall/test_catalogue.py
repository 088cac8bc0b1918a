"""The seeded catalogue and the catalogue checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from rooms.hall.catalogue import catalogue_to_dict, parse_catalogue
from rooms.hall.errors import CatalogueError
from rooms.layouts import HALL_LAYOUT
from server.hall_setup import SEED_FILE, load_catalogue_file

RAW: dict[str, Any] = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def test_seed_has_about_fifteen_bilingual_services() -> None:
    cat = load_catalogue_file(SEED_FILE)
    assert 14 <= len(cat.services) <= 16
    ids = {s.id for s in cat.services}
    assert {"hukou", "social_insurance", "housing_fund", "business_licence", "tax",
            "medical_insurance", "residence_permit"} <= ids
    for s in cat.services:
        assert s.name["zh-CN"] and s.name["en"] and s.documents and s.keywords
        assert all(d.name["zh-CN"] and d.name["en"] for d in s.documents)
    assert len({s.prefix for s in cat.services}) == len(cat.services)
    assert any(s.online for s in cat.services) and any(not s.online for s in cat.services)


def test_seed_counters_sit_on_the_floor_plan() -> None:
    cat = load_catalogue_file(SEED_FILE)
    plan = {f["id"]: (f["x"], f["z"]) for f in HALL_LAYOUT.features if f["type"] == "counter"}
    assert [c.id for c in cat.counters] == [f"c{i}" for i in range(1, 13)]
    for i, c in enumerate(cat.counters):
        assert (c.x, c.z) == (-49.5 + 9 * i, -33) == plan[c.id]
    served = {sid for c in cat.counters for sid in c.service_ids}
    assert served == {s.id for s in cat.services}  # every service has a counter


def test_export_round_trips() -> None:
    cat = load_catalogue_file(SEED_FILE)
    assert parse_catalogue(catalogue_to_dict(cat)) == cat


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("path,value,needle", [
    (["services", 1, "prefix"], "A", "share prefix"),
    (["services", 0, "prefix"], "a1", "prefix"),
    (["services", 0, "id"], "Bad Id", "id"),
    (["services", 0, "name"], {"zh-CN": "户籍"}, "name.en"),
    (["services", 0, "avg_service_s"], -5, "avg_service_s"),
    (["services", 0, "online_url"], "javascript:alert(1)", "online_url"),
    (["counters", 0, "services"], ["nope"], "unknown services"),
    (["counters", 0, "x"], "left", "x"),
    (["hall", "opens"], "9am", "opens"),
    (["hall", "timezone"], "Mars/Base", "timezone"),
    (["hall", "bogus"], 1, "unknown keys"),
])
def test_bad_catalogues_are_refused_with_the_field_named(path: list[Any], value: Any,
                                                         needle: str) -> None:
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(_broken(path, value))
    assert err.value.code == "bad_request" and needle in err.value.message

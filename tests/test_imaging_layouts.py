"""The layout registry: shipped layouts, a bank's own file, detection from printed rules."""

from __future__ import annotations

import json

import pytest

from chequeverify.errors import InvalidInput
import chequeverify.imaging.layouts as registry
from chequeverify.imaging.layouts import (
    Rule,
    add_layout_file,
    detect_layout,
    flip_rules,
    get_layout,
    all_layouts,
    load_layout_file,
    parse_layout,
)

BANK_LAYOUT = {
    "name": "examplebank_corporate",
    "title": "Example Bank corporate cheque",
    "size_mm": [203, 95],
    "units": "mm",
    "fields": {
        "signature": [120, 55, 200, 80],
        "micr": [20, 80, 190, 94],
        "date": [150, 5, 200, 15],
        "amount": [150, 30, 200, 42],
        "account": [10, 45, 70, 55],
    },
    "landmarks": {"rules": [[10, 140, 25], [10, 140, 35], [125, 195, 52, 2.0]]},
}


@pytest.fixture
def fresh_registry(monkeypatch):
    """An empty registry that reloads the shipped layouts (and $CHEQUEVERIFY_LAYOUTS)."""
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_LOADED", False)


def test_shipped_layouts_are_packaged_and_valid():
    shipped = all_layouts()
    assert {"cts2010", "north_american"} <= set(shipped)
    cts = get_layout("cts2010")
    assert cts.size_mm == (202, 92)
    for name in ("signature", "micr", "account", "date", "amount"):
        x0, y0, x1, y1 = cts.fields[name]
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    # the signature is above the MICR clear band on every layout
    for layout in shipped.values():
        assert layout.signature[1] < layout.fields["micr"][1] <= layout.signature[3] + 0.05
    assert registry.generic_layout().name == "north_american"


def test_unknown_layout_is_named():
    with pytest.raises(InvalidInput, match="cts2010"):
        get_layout("nope")


def test_a_bank_adds_its_layout_with_a_json_file(tmp_path, fresh_registry):
    path = tmp_path / "examplebank.json"
    path.write_text(json.dumps(BANK_LAYOUT))
    layout = add_layout_file(path)
    assert layout.name in all_layouts()
    # millimetres were converted to fractions of the cheque
    assert layout.signature == pytest.approx((120 / 203, 55 / 95, 200 / 203, 80 / 95))
    assert layout.rules[2].weight == 2.0


def test_layout_folder_from_the_environment(tmp_path, monkeypatch, fresh_registry):
    (tmp_path / "examplebank.json").write_text(json.dumps(BANK_LAYOUT))
    (tmp_path / "broken.json").write_text("{not json")
    monkeypatch.setenv(registry.LAYOUTS_ENV, str(tmp_path))
    names = set(all_layouts())
    assert "examplebank_corporate" in names and "cts2010" in names  # the broken file is skipped


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": ""}, "name"),
        ({"size_mm": [5, 5]}, "plausible"),
        ({"units": "inches"}, "units"),
        ({"fields": {"signature": [0.1, 0.1, 0.2, 0.2]}}, "micr"),
        ({"fields": {"signature": [0.5, 0.1, 0.2, 0.2], "micr": [0, 0.9, 1, 1]}}, "inside"),
        ({"landmarks": {"rules": [["a", 1, 2]]}}, "rule"),
    ],
)
def test_invalid_layouts_say_what_is_wrong(change, message):
    data = dict(BANK_LAYOUT, units="relative", fields={"signature": [0.6, 0.6, 1, 0.85], "micr": [0, 0.86, 1, 1]})
    data.update(change)
    with pytest.raises(InvalidInput, match=message):
        parse_layout(data)


def test_invalid_json_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_layout_file(path)
    with pytest.raises(InvalidInput, match="Cannot read"):
        load_layout_file(tmp_path / "missing.json")


def test_detection_from_rules_and_upside_down():
    cts = get_layout("cts2010")
    na = get_layout("north_american")
    found = [Rule(r.x0, r.x1, r.y) for r in cts.rules]
    match = detect_layout(found, aspect=cts.aspect)
    assert match.layout.name == "cts2010" and not match.upside_down
    turned = detect_layout(flip_rules(found), aspect=cts.aspect)
    assert turned.layout.name == "cts2010" and turned.upside_down
    match = detect_layout([Rule(r.x0, r.x1, r.y) for r in na.rules], aspect=na.aspect)
    assert match.layout.name in ("north_american", "us_business")


def test_nothing_recognised_falls_back_to_the_generic_layout():
    match = detect_layout([], aspect=2.2)
    assert match.layout.generic and not match.upside_down

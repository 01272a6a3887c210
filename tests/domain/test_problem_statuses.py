"""The catalogue is the one source of a problem's HTTP status: the raisers name situations,
never numbers, and the committed API contract says what the catalogue says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from domain.errors import CATALOGUE
from domain.exceptions import DomainError

ROOT = Path(__file__).resolve().parents[2]
_SITUATION = re.compile(r"situation=\"(\w+)\"")
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def test_a_refusal_may_not_state_its_own_status():
    with pytest.raises(TypeError, match="catalogue"):
        DomainError("refused", code="ACCESS_REVOKED", status=422)


def test_every_situation_the_code_names_is_in_the_catalogue():
    named = {
        (path.relative_to(ROOT).as_posix(), situation)
        for folder in ("domain", "service")
        for path in (ROOT / folder).rglob("*.py")
        for situation in _SITUATION.findall(path.read_text(encoding="utf-8"))
    }
    assert named, "the sweep found no situation at all"
    known = {s for e in CATALOGUE.values() for s in e.http_status_when}
    assert {(path, s) for path, s in named if s not in known} == set()


def test_the_contract_lists_each_code_under_the_status_the_catalogue_gives_it():
    doc = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    status_of_response = {
        answer["$ref"].rsplit("/", 1)[-1]: int(status)
        for item in doc["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for status, answer in operation.get("responses", {}).items()
        if "$ref" in answer
    }
    checked = 0
    for name, response in doc["components"]["responses"].items():
        status = status_of_response[name]
        for code in set(_CODE.findall(response["description"])) & set(CATALOGUE):
            found = CATALOGUE[code]
            assert status in {found.http_status, *found.http_status_when.values()}, (code, status)
            checked += 1
    assert checked >= 15

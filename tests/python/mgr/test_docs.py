"""docs/manifests.md documents exactly the keys of the schema."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cells.mgr.schema import CELL_SCHEMA, PROVISION_STEPS, VOLUME_SCHEMA

DOC = Path(__file__).resolve().parents[3] / "docs" / "manifests.md"


def _keys(schema: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, sub in schema.get("properties", {}).items():
        path = prefix + name
        out.add(path)
        for branch in [sub, *sub.get("anyOf", [])]:
            if branch.get("type") == "object" and "properties" in branch and name != "rlimits":
                out |= _keys(branch, path + ".")
    return out


def _documented(section: str) -> set[str]:
    text = DOC.read_text()
    start = text.index(section)
    end = text.find("\n## ", start + 1)
    body = text[start : end if end > 0 else None]
    return set(re.findall(r"^\| `([a-z_.]+)` \|", body, flags=re.M))


def test_cell_keys_match_the_schema() -> None:
    schema_keys = _keys(CELL_SCHEMA) - {"provision"}
    steps = _keys({"properties": PROVISION_STEPS})
    documented = _documented("## Cell")
    assert documented == schema_keys | steps | {"provision"}


def test_volume_keys_match_the_schema() -> None:
    assert _documented("## Volume") == _keys(VOLUME_SCHEMA)


def test_the_example_is_valid() -> None:
    import yaml
    from cells.mgr.schema import manifest_schema
    from jsonschema import Draft202012Validator

    block = DOC.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    validator = Draft202012Validator(manifest_schema())
    docs = list(yaml.safe_load_all(block))
    assert [d["kind"] for d in docs] == ["Volume", "Cell"]
    for doc in docs:
        validator.validate(doc)

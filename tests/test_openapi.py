"""The OpenAPI document in the package describes every route and method the server has."""

from __future__ import annotations

import re
from importlib.resources import files

import yaml

from jupyter_spaces.handlers import route_table

from .test_auth import implemented


def test_every_route_and_method_is_documented() -> None:
    doc = yaml.safe_load(files("jupyter_spaces").joinpath("schema/openapi.yaml").read_text())
    assert doc["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set()
    for pattern, handler in route_table():
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        served |= {(path, m) for m in implemented(handler)}
    assert served == documented
    # Every $ref resolves.
    text = yaml.safe_dump(doc)
    for ref in set(re.findall(r"\$ref: '?#/([\w/]+)", text)):
        node = doc
        for part in ref.split("/"):
            node = node[part]

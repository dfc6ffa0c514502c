"""Prefect upgrades stay safe: the package uses Prefect's public API only.

A private name (one starting with ``_``) may change in any release without notice. The
package is read as source: no import of a private Prefect module or name, and no
attribute access to a private name, except on ``self`` and ``cls`` (our own classes).
The Prefect range in pyproject.toml is pinned to the minor versions tested;
``make test-prefect-newest`` runs the Prefect-facing tests against the newest 3.x.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import journey

PACKAGE = Path(journey.__file__).resolve().parent


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _sources() -> list[Path]:
    """Every module of the package, through the links to flows/, tasks/ and models/."""
    return sorted(
        Path(folder, name)
        for folder, _, names in os.walk(PACKAGE, followlinks=True)
        for name in names
        if name.endswith(".py") and "migrations" not in Path(folder).parts
    )


def offences(tree: ast.AST) -> list[str]:
    """Each private Prefect import, and each private attribute read off something that is
    not ``self`` or ``cls``, as ``line: text``."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prefect"):
            parts = [*(node.module or "").split("."), *(a.name for a in node.names)]
            if any(_private(p) for p in parts):
                found.append(f"{node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("prefect") and any(
                    _private(p) for p in alias.name.split(".")
                ):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in {"self", "cls"}):
                found.append(f"{node.lineno}: ….{node.attr}")
    return found


def test_the_check_finds_what_it_looks_for() -> None:
    source = (
        "from prefect._internal import x\n"
        "import prefect._vendor.y\n"
        "d._parameter_openapi_schema.update({})\n"
        "self._mine = 1\n"
        "from journey.services._leases import Claims\n"
    )
    assert offences(ast.parse(source)) == [
        "1: from prefect._internal import …",
        "2: import prefect._vendor.y",
        "3: …._parameter_openapi_schema",
    ]


def test_no_private_names_in_the_package() -> None:
    assert any(p.parent.name == "flows" for p in _sources())
    found = {
        str(path.relative_to(PACKAGE)): hits
        for path in _sources()
        if (hits := offences(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {}


def test_prefect_is_pinned_to_tested_minor_versions() -> None:
    import tomllib

    import prefect

    pyproject = PACKAGE.parent.parent / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    [pin] = [d for d in deps if d.startswith("prefect")]
    major, minor = (int(n) for n in prefect.__version__.split(".")[:2])
    assert pin.endswith(f",<{major}.{minor + 1}"), (pin, prefect.__version__)

"""pyproject.toml and environment.yml must list the same packages with the same minimums."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# PyPI names whose conda-forge package differs, or which need a second package there.
CONDA_NAMES = {
    "pyjwt": ("pyjwt", "cryptography"),
    "duckdb": ("python-duckdb",),
    "playwright": ("playwright-python",),
    "moto": ("moto", "flask", "flask-cors"),
}
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[([^\]]*)\])?\s*(>=\s*[\w.]+)?")


def _parse(requirement: str) -> tuple[str, str | None]:
    match = REQUIREMENT.match(requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    name = match.group(1).lower().replace("_", "-")
    minimum = match.group(3).replace(" ", "").removeprefix(">=") if match.group(3) else None
    return name, minimum


def _pyproject_packages() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    expected: dict[str, str | None] = {}
    for requirement in requirements:
        name, minimum = _parse(requirement)
        conda = CONDA_NAMES.get(name, (name,))
        expected[conda[0]] = minimum
        for extra in conda[1:]:
            expected.setdefault(extra, None)
    return expected


def _environment_packages() -> dict[str, str | None]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    packages: dict[str, str | None] = {}
    for entry in environment["dependencies"]:
        if not isinstance(entry, str):
            continue  # the pip: block installs the project itself
        name, minimum = _parse(entry)
        if name not in {"python", "pip"}:
            packages[name] = minimum
    return packages


def test_environment_lists_pyproject_packages():
    expected = _pyproject_packages()
    listed = _environment_packages()
    assert sorted(set(expected) - set(listed)) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(set(listed) - set(expected)) == [], "in environment.yml but not in pyproject.toml"


def test_environment_minimum_versions_match():
    expected = _pyproject_packages()
    listed = _environment_packages()
    mismatched = {
        name: (expected[name], listed[name]) for name in expected if name in listed and expected[name] != listed[name]
    }
    assert mismatched == {}


def test_environment_python_matches_requires_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in environment["dependencies"]

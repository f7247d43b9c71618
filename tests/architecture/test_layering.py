"""The direction of imports is a rule the build checks: the kit is the ground, the job engine and
the web shell know no domain, and domains plug in through one manifest (autopilot.domains)."""

from __future__ import annotations

import inspect
import os
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import APIRouter

import autopilot
from autopilot import domains
from autopilot.config import Settings
from autopilot.kit.db import Base
from autopilot.web.templating import Nav
from autopilot.worker.registry import REGISTRY

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(autopilot.__file__).parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = {
    c["id"]: c for c in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
}
GROUND = {"autopilot.kit", "autopilot.config"}
# What each layer contract lets its source import; everything else in autopilot must be forbidden.
MAY_IMPORT = {
    "kit-is-ground": set[str](),
    "engine-knows-no-domain": GROUND,
    "shell-knows-no-domain": GROUND,
    "sandbox-is-outside": set[str](),
}
NOT_PACKAGES = {"migrations"}  # Alembic loads env.py and the versions by path; nothing imports them


def lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "400"},  # one contract per line in the report
        capture_output=True,
        text=True,
        timeout=120,
    )


def top_level_modules() -> set[str]:
    return {f"autopilot.{m.name}" for m in pkgutil.iter_modules(autopilot.__path__)}


def test_the_import_contracts_hold() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_every_directory_of_code_is_a_package_the_contracts_can_see() -> None:
    # A domain folder without __init__.py would be a namespace package: import-linter does not
    # see it, so no contract would apply to it.
    folders = {p.parent.relative_to(PACKAGE_DIR).parts[0] for p in PACKAGE_DIR.glob("*/**/*.py")}
    invisible = {f for f in folders - NOT_PACKAGES if not (PACKAGE_DIR / f / "__init__.py").exists()}
    assert not invisible, f"folders of code that are not packages: {sorted(invisible)}"


@pytest.mark.parametrize("contract_id", sorted(MAY_IMPORT))
def test_every_package_is_named_by_each_layer_contract(contract_id: str) -> None:
    """A new top-level package must be added to the forbidden lists, or it escapes the rules."""
    contract = CONTRACTS[contract_id]
    assert contract["type"] == "forbidden" and not contract.get("allow_indirect_imports", False)
    named = set(contract["source_modules"]) | set(contract["forbidden_modules"]) | MAY_IMPORT[contract_id]
    assert top_level_modules() >= {"autopilot.worker", "autopilot.web", "autopilot.kit", "autopilot.accounts"}
    missing = top_level_modules() - named
    assert not missing, f"{contract_id!r} does not forbid {sorted(missing)}: add them to its forbidden_modules"


def _defines_tables(module: ModuleType) -> bool:
    mapped = [obj for _name, obj in inspect.getmembers(module, inspect.isclass) if hasattr(obj, "__table__")]
    return any(cls.__module__ == module.__name__ and cls.__table__ in Base.metadata.tables.values() for cls in mapped)


def test_every_manifest_entry_resolves_to_what_it_claims(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path, secret_key="t" * 48, encryption_keys="", job_modules="")
    assert len({d.name for d in domains.DOMAINS}) == len(domains.DOMAINS), "domain names are unique"
    domains.load_models()
    for domain in domains.DOMAINS:
        where = f"domain {domain.name!r}"
        for path in (domain.router, domain.pages):
            if path:
                assert isinstance(domains.resolve(path), APIRouter), f"{where}: {path} is not an APIRouter"
        if domain.nav:
            nav: Any = domains.resolve(domain.nav)
            assert isinstance(nav, list | tuple) and nav and all(isinstance(tab, Nav) for tab in nav), (
                f"{where}: {domain.nav} is not a list of Nav"
            )
        if domain.models:
            assert _defines_tables(domains.resolve(domain.models)), f"{where}: {domain.models} defines no table"
        for module in domain.job_modules:
            domains.resolve(module)
            kinds = [k for k, spec in REGISTRY.items() if spec.handler.__module__ == module]
            assert kinds, f"{where}: {module} registers no job kind"
        for path in domain.listeners:
            assert callable(domains.resolve(path)(settings)), f"{where}: {path}(settings) is not a listener"
    wiring = domains.engine_wiring(settings)
    assert len(wiring.outcomes.listeners) == sum(len(d.listeners) for d in domains.DOMAINS)


def test_a_broken_contract_fails_the_check_and_names_the_rule(tmp_path: Path) -> None:
    # The real package against a rule it must break: the engine may not even use the kit.
    name = "Deliberately too strict: the engine may not import the kit"
    config = tmp_path / "importlinter.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_package = "autopilot"\n'
        "[[tool.importlinter.contracts]]\n"
        'id = "too-strict"\n'
        f'name = "{name}"\n'
        'type = "forbidden"\n'
        'source_modules = ["autopilot.worker"]\n'
        'forbidden_modules = ["autopilot.kit"]\n'
    )
    result = lint_imports("--config", str(config))
    assert result.returncode != 0
    assert f"{name} BROKEN" in result.stdout
    assert "Contracts: 0 kept, 1 broken." in result.stdout
    assert "autopilot.worker." in result.stdout and "-> autopilot.kit." in result.stdout  # which import

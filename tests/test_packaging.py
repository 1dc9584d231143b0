"""What a deployment installs: the product's wheel, without the Bot API sandbox.

The sandbox (sandbox/) serves the demo, the tests and the benchmarks; it is a
distribution of its own, so a deployment that runs `pip install shopwatch` gets no
fake Telegram beside the real one.
"""

from __future__ import annotations

import zipfile

import pytest

from tests.wheels import Wheels

PRODUCT_PACKAGES = {"bot", "handlers", "storage", "broadcast", "config"}
pytestmark = pytest.mark.xdist_group("wheels")
"""One worker builds the wheels once for both modules when the tests run side by side."""


def _top_level(wheel: zipfile.ZipFile) -> set[str]:
    return {name.split("/")[0] for name in wheel.namelist() if ".dist-info/" not in name}


def test_the_products_wheel_holds_the_product_and_no_sandbox(built_wheels: Wheels) -> None:
    wheel = zipfile.ZipFile(built_wheels.product)

    assert _top_level(wheel) == PRODUCT_PACKAGES
    assert "bot/demo.py" in wheel.namelist(), "shopwatch demo ships; the sandbox it needs not"
    assert not [name for name in wheel.namelist() if "sandbox" in name]


def test_the_sandbox_is_a_wheel_of_its_own_that_needs_nothing_of_shopwatch(
    built_wheels: Wheels,
) -> None:
    wheel = zipfile.ZipFile(built_wheels.sandbox)

    assert _top_level(wheel) == {"sandbox"}
    assert {"sandbox/__init__.py", "sandbox/api/sending.py", "sandbox/py.typed"} <= set(
        wheel.namelist()
    )
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert requires, "it names what it needs"
    assert not [r for r in requires if r.lower().startswith("shopwatch")]
    for module in wheel.namelist():
        if module.endswith(".py"):
            source = wheel.read(module).decode()
            for package in PRODUCT_PACKAGES:
                assert f"from {package}" not in source, f"{module} imports {package}"
                assert f"import {package}" not in source, f"{module} imports {package}"

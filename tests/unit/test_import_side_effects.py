"""Importing any module of the package must not read Cascade settings or build AWS clients."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import cascade


def _module_names() -> Iterator[str]:
    for info in pkgutil.walk_packages(cascade.__path__, prefix="cascade."):
        yield info.name


def _is_cascade_module(name: str) -> bool:
    return name == "cascade" or name.startswith("cascade.")


@pytest.fixture(autouse=True)
def _restore_cascade_modules() -> Iterator[None]:
    """Put back exactly the modules that were loaded before the test.

    The tests import fresh copies of every module. Leaving a copy behind would split process-wide
    state, such as installed collaborators, between two copies of one module for later tests.
    """
    saved = {name: module for name, module in sys.modules.items() if _is_cascade_module(name)}
    yield
    for name in [name for name in sys.modules if _is_cascade_module(name)]:
        del sys.modules[name]
    sys.modules.update(saved)


def _forget_cascade_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if _is_cascade_module(name):
            monkeypatch.delitem(sys.modules, name)


def test_import_reads_no_cascade_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real_get = os.environ.get

    class _Recorder(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
            if key.startswith("CASCADE_"):
                reads.append(key)
            return real_get(key, default)

        def __getitem__(self, key: str) -> str:
            if key.startswith("CASCADE_"):
                reads.append(key)
            return super().__getitem__(key)

    _forget_cascade_modules(monkeypatch)
    monkeypatch.setattr(os, "environ", _Recorder(os.environ))
    for name in _module_names():
        importlib.import_module(name)
    assert reads == []


def test_import_builds_no_aws_client(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def record(*args: Any, **kwargs: Any) -> None:
        built.append(str(args[:1] or kwargs.get("service_name")))

    _forget_cascade_modules(monkeypatch)
    monkeypatch.setattr(boto3, "client", record)
    monkeypatch.setattr(boto3, "resource", record)
    monkeypatch.setattr(boto3.session.Session, "client", record)
    for name in _module_names():
        importlib.import_module(name)
    assert built == []

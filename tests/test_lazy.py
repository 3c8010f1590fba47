"""workbench.lazy and the packages built on it: every supported name resolves, none hides a module."""

import importlib
import pkgutil
import types

import pytest
from supported_api import PACKAGES

from workbench.lazy import lazy_exports


@pytest.mark.parametrize("name", PACKAGES)
def test_every_supported_name_resolves_even_after_its_modules_are_imported(name):
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{name}.{info.name}")  # binds the package attribute of that name to the module
    assert package.__all__ and len(set(package.__all__)) == len(package.__all__)
    for attr in package.__all__:
        assert not isinstance(getattr(package, attr), types.ModuleType), f"{name}.{attr} is hidden by a module"


def test_lazy_names_import_their_module_on_first_use():
    getattr_, dir_, all_ = lazy_exports("json", {"decoder": ["JSONDecoder"], "encoder": ["JSONEncoder"]})
    assert all_ == ["JSONDecoder", "JSONEncoder"] and dir_() == all_
    assert getattr_("JSONDecoder") is importlib.import_module("json.decoder").JSONDecoder
    with pytest.raises(AttributeError, match="module 'json' has no attribute 'loads_fast'"):
        getattr_("loads_fast")

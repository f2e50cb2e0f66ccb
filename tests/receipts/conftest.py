import pytest

from pos.core.printers_file import load_profiles
from tests.receipts.samples import CONFIG


@pytest.fixture(scope="session")
def profiles():
    return load_profiles(CONFIG / "printers.toml")

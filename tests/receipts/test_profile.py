"""Printer profiles from config/printers.toml."""
from __future__ import annotations

import pytest

from receipts import ProfileConfigError, load_profile, load_profiles
from tests.receipts.samples import CONFIG

GOOD = """
[profile.p]
columns = 32
dots = 384
chinese = "gb18030"
native_qr = false
escpos_profile = "POS-5890"
"""


def test_shipped_profiles():
    profiles = load_profiles(CONFIG / "printers.toml")
    assert {(p.name, p.columns, p.dots, p.chinese, p.native_qr, p.labels) for p in profiles.values()} == {
        ("58mm", 32, 384, "gb18030", True, "bilingual"), ("58mm-image", 32, 384, "image", False, "english"),
        ("80mm", 48, 576, "gb18030", True, "bilingual"), ("80mm-image", 48, 576, "image", True, "english")}
    assert all(p.cell_dots == 12 for p in profiles.values())


@pytest.mark.parametrize("change, message", [
    (("columns = 32", "columns = 10"), "columns must be 24..64"),
    (('chinese = "gb18030"', 'chinese = "big5"'), "chinese must be"),
    (('escpos_profile = "POS-5890"', 'escpos_profile = "NoSuchPrinter"'), "escpos_profile 'NoSuchPrinter'"),
    (("dots = 384", "dots = 576"), "exceeds the width"),
    (("native_qr = false", "native_qr = 1"), "native_qr must be bool"),
    (("columns = 32\n", "columns = 32\ncolour = true\n"), "unknown key 'colour'"),
    (("dots = 384\n", ""), "missing 'dots'"),
    (("columns = 32\n", 'columns = 32\nlabels = "french"\n'), "labels must be"),
])
def test_bad_profiles_name_file_table_and_key(tmp_path, change, message):
    path = tmp_path / "printers.toml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(ProfileConfigError) as caught:
        load_profiles(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    assert "[profile.p]" in str(caught.value)


def test_unknown_profile_name(tmp_path):
    path = tmp_path / "printers.toml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ProfileConfigError, match="no profile '90mm'"):
        load_profile(path, "90mm")

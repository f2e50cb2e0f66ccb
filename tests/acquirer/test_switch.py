"""BIN routing: prefixes and ranges, the longest match wins."""
import pytest

from acquirer.config import BinRoute, IssuerSettings
from acquirer.switch import NoRoute, Switch


def _switch(*routes: BinRoute) -> Switch:
    names = {r.issuer for r in routes}
    return Switch(routes, [IssuerSettings(n, "unionpay", b"", "normal", 0) for n in names], timeout_ms=100)


def test_prefixes_and_ranges_longest_match_first():
    switch = _switch(
        BinRoute("62", "62", "unionpay", "cup"),
        BinRoute("621483", "621483", "unionpay", "special"),
        BinRoute("51", "55", "mastercard", "mc"),
        BinRoute("2221", "2720", "mastercard", "mc"),
        BinRoute("4", "4", "visa", "visa"),
    )
    assert switch.route("6214830000000000015") == "special"
    assert switch.route("6258070000000017") == "cup"
    assert switch.route("5413330000000019") == "mc"
    assert switch.route("5599990000000000") == "mc"
    assert switch.route("2223000000000015") == "mc"
    assert switch.route("2720990000000000") == "mc"
    assert switch.route("4761730000000011") == "visa"
    for pan in ("5600000000000000", "2721000000000000", "2220990000000000", "3528000000000000"):
        with pytest.raises(NoRoute):
            switch.route(pan)


def test_link_modes_are_validated():
    switch = _switch(BinRoute("62", "62", "unionpay", "cup"))
    switch.set_link("cup", "down")
    assert switch.links["cup"].mode == "down"
    with pytest.raises(ValueError):
        switch.set_link("cup", "sleepy")
    with pytest.raises(KeyError):
        switch.set_link("nobody", "normal")

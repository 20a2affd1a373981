"""lla._memory: refuse, up front, allocations that cannot fit."""

import numpy as np
import pytest

from lla import ParameterError
from lla._memory import array_bytes, available_memory, check_allocation, format_bytes


def test_array_bytes_uses_exact_integers():
    # LDA's n_wk for the wiki vocabulary and K = 10^9: 80 TB, no int64 overflow or float rounding
    assert array_bytes(((20001, 10**9), np.int32)) == 20001 * 10**9 * 4
    assert array_bytes(((3, 4), "float64"), (5, np.int32)) == 3 * 4 * 8 + 5 * 4
    assert array_bytes(((2**40, 2**40), np.int64)) == 2**83  # beyond int64


def test_format_bytes():
    assert format_bytes(12) == "12 B"
    assert format_bytes(1536) == "1.50 KiB"
    assert format_bytes(int(3.43 * 2**40)) == "3.43 TiB"


def test_available_memory_is_a_plausible_number():
    n = available_memory()
    assert n is None or 1 << 20 < n < 1 << 60


def test_absurd_allocation_is_refused_with_sizes(monkeypatch):
    monkeypatch.delenv("LLA_MEMORY_LIMIT", raising=False)
    need = array_bytes(((20001, 10**9), np.int32))
    with pytest.raises(ParameterError, match=r"^--topics 1000000000: 72.76 TiB of memory needed, "
                                             r"but only .* available$"):
        check_allocation(need, "--topics 1000000000")
    assert check_allocation(1 << 20, "a small array") == 1 << 20


@pytest.mark.parametrize("value,expected", [("1000", 1000), ("2K", 2048), ("3G", 3 << 30),
                                            ("1GiB", 1 << 30), (" 5 M ", 5 << 20)])
def test_limit_override(monkeypatch, value, expected):
    monkeypatch.setenv("LLA_MEMORY_LIMIT", value)
    assert available_memory() == expected


def test_limit_override_applies_and_bad_value_is_refused(monkeypatch):
    monkeypatch.setenv("LLA_MEMORY_LIMIT", "1M")
    with pytest.raises(ParameterError, match=r"x: 2.00 MiB of memory needed, but only 1.00 MiB"):
        check_allocation(2 << 20, "x")
    monkeypatch.setenv("LLA_MEMORY_LIMIT", "lots")
    with pytest.raises(ParameterError, match="LLA_MEMORY_LIMIT must be a number of bytes"):
        available_memory()

import zlib

import numpy as np
import pytest
from larq_compute._native import kernels


@pytest.fixture(params=["reference", *kernels.available_variants()])
def variant(request) -> str:
    """Every kernel variant this machine can run, plus the plain reference twin."""
    return request.param


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A seed fixed per test id, so a failure reproduces."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))

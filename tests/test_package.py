import subprocess
import sys

import larq_compute
from larq_compute import _native


def test_version_is_exported():
    assert larq_compute.__version__.count(".") == 2


def test_cpu_features_lists_portable_variant():
    features = _native.cpu_features()
    assert features["isa_variants"][0] == "portable"
    assert set(features) >= {"avx2", "avx512_vpopcntdq", "amx_int8", "neon", "isa_variants"}
    if features["avx512_vpopcntdq"]:
        assert "avx512" in features["isa_variants"]


def test_cli_version():
    out = subprocess.run(
        [sys.executable, "-m", "larq_compute", "--version"], capture_output=True, text=True, check=True
    )
    assert larq_compute.__version__ in out.stdout


def test_unknown_attribute_raises():
    try:
        larq_compute.does_not_exist  # noqa: B018
    except AttributeError as e:
        assert "does_not_exist" in str(e)
    else:
        raise AssertionError("expected AttributeError")

"""Test conventions shared by the runtime's BUILD files."""

def cc_test_per_file(deps, size = "medium"):
    """One gtest binary per *_test.cpp of the package, named after the file, linked with deps."""
    for src in native.glob(["*_test.cpp"]):
        native.cc_test(
            name = src[:-len(".cpp")],
            size = size,
            srcs = [src],
            deps = deps + ["@googletest//:gtest_main"],
        )

"""Write docs/api.md, the API reference, from the package's docstrings.

    .venv/bin/python scripts/gen_api_docs.py           # rewrite docs/api.md
    .venv/bin/python scripts/gen_api_docs.py --check   # exit 1 if docs/api.md is out of date

Documents, per public module, its docstring and every public name: those in ``__all__``, or
else the functions and classes the module defines without a leading underscore. Google-style
``Args:`` / ``Returns:`` / ``Raises:`` sections become bullet lists.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "api.md"

# (module, what a reader looks for there), in reading order.
MODULES = [
    ("larq_compute", "top-level entry points"),
    ("larq_compute.layers", "quantized Keras layers"),
    ("larq_compute.quantizers", "quantizers and their pseudo-gradients"),
    ("larq_compute.constraints", "weight constraints"),
    ("larq_compute.activations", "activations"),
    ("larq_compute.optimizers", "Bop and CaseOptimizer"),
    ("larq_compute.callbacks", "training callbacks"),
    ("larq_compute.metrics", "training metrics"),
    ("larq_compute.models", "model summary"),
    ("larq_compute.context", "quantization contexts"),
    ("larq_compute.math", "math helpers"),
    ("larq_compute.compiler", "the converter"),
    ("larq_compute.interpreter", "the runtime"),
    ("larq_compute.zoo", "reference architectures"),
    ("larq_compute.demo", "the demo and its timing helpers"),
]
_SECTION = re.compile(r"^(Args|Arguments|Returns|Raises|Yields|Attributes):\s*$")
_ENTRY = re.compile(r"^(\*{0,2}[\w.]+)(\s*\([^)]*\))?:\s*(.*)$")


def _format_docstring(doc: str) -> str:
    """Markdown from a docstring: section headers bold, their indented entries as bullets."""
    out: list[str] = []
    in_section = False
    for line in doc.splitlines():
        header = _SECTION.match(line)
        if header:
            out += ["", f"**{header.group(1)}**", ""]
            in_section = True
            continue
        if in_section and line.startswith((" ", "\t")) and line.strip():
            text = line.strip()
            entry = _ENTRY.match(text)
            indent = len(line) - len(line.lstrip())
            if entry and indent <= 4:
                out.append(f"- `{entry.group(1)}`: {entry.group(3)}".rstrip())
            elif entry is None and indent <= 4 and not out[-1].startswith("- "):
                out.append(f"- {text}")
            else:
                out[-1] += " " + text
            continue
        if in_section and line.strip():
            in_section = False
            out.append("")
        out.append(line)
    return "\n".join(out).strip()


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module.__name__
        ]
    return sorted(names, key=lambda name: (not inspect.isclass(getattr(module, name, None)), name))


class _Written:
    """An annotation shown as written in the source (``from __future__ import annotations``
    keeps annotations as strings, which ``inspect`` would print quoted)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _signature(obj) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"

    def written(annotation):
        return _Written(annotation) if isinstance(annotation, str) else annotation

    parameters = [p.replace(annotation=written(p.annotation)) for p in signature.parameters.values()]
    returns = inspect.Signature.empty if inspect.isclass(obj) else signature.return_annotation
    return str(signature.replace(parameters=parameters, return_annotation=written(returns)))


def _members(cls) -> list[str]:
    """Public methods and properties the class itself defines, one line each."""
    lines = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            kind, target = "property", value.fget
        elif isinstance(value, staticmethod | classmethod):
            kind, target = "method", value.__func__
        elif inspect.isfunction(value):
            kind, target = "method", value
        else:
            continue
        summary = (inspect.getdoc(target) or "").split("\n\n")[0].replace("\n", " ")
        call = "" if kind == "property" else _signature(target).replace("(self, ", "(").replace("(self)", "()")
        lines.append(f"- `{name}{call}`" + (f": {summary}" if summary else ""))
    return lines


def _document(qualified: str, obj) -> list[str]:
    kind = "class" if inspect.isclass(obj) else "def"
    lines = [f"### `{qualified}`", "", f"```python\n{kind} {qualified.rsplit('.', 1)[-1]}{_signature(obj)}\n```", ""]
    doc = inspect.getdoc(obj)
    if doc:
        lines += [_format_docstring(doc), ""]
    if inspect.isclass(obj):
        members = _members(obj)
        if members:
            lines += ["Members:", "", *members, ""]
    return lines


def render() -> str:
    parts = [
        "# API reference",
        "",
        "Generated from the docstrings by `scripts/gen_api_docs.py`; do not edit by hand.",
        "",
        *[f"- [`{name}`](#{name.replace('.', '')}): {about}" for name, about in MODULES],
        "",
    ]
    for name, _ in MODULES:
        module = importlib.import_module(name)
        parts += [f"## {name}", ""]
        if module.__doc__:
            parts += [_format_docstring(inspect.cleandoc(module.__doc__)), ""]
        lazy = getattr(module, "_LAZY_ATTRIBUTES", {})  # the top level's re-exports
        parts += [f"- `{name}.{attr}`: see `{home}.{attr}`" for attr, home in sorted(lazy.items())]
        parts += [""] if lazy else []
        for public in _public_names(module):
            obj = getattr(module, public, None)
            if obj is None or not callable(obj):
                continue
            parts += _document(f"{name}.{public}", obj)
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/api.md from the docstrings.")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date; run scripts/gen_api_docs.py")
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

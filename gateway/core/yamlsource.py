"""YAML that remembers where every value came from, so config errors can name the line.

``load_yaml`` returns plain Python data plus a map from key path (``("strings", 1,
"units", "model")``) to line number. Duplicate keys are an error: PyYAML would silently
keep the last one, and a security setting given twice must not be resolved by accident.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. PyYAML's YAML 1.1 reads ``on``, ``off``, ``yes``
    and ``no`` as booleans, which turns an ``on:`` key into ``True``."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class YamlError(Exception):
    """A file that is not valid YAML, with its line."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file, self.line, self.message = file, line, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


def load_yaml(path: Path) -> tuple[Any, dict[Path_, int]]:
    """Parse ``path``; return the data and the line (1-based) of every key path."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        raise YamlError(str(path), mark.line + 1 if mark else None, str(e.problem or e)) from None
    if node is None:
        return {}, {}
    lines: dict[Path_, int] = {}
    _index(node, (), lines, str(path))
    data = yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader
    return data, lines


def _index(node: yaml.Node, where: Path_, lines: dict[Path_, int], file: str) -> None:
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise YamlError(
                    file,
                    key_node.start_mark.line + 1,
                    f"{_dotted((*where, key))}: key given twice (first on line {seen[key]})",
                )
            seen[key] = key_node.start_mark.line + 1
            lines[(*where, key)] = key_node.start_mark.line + 1
            _index(value_node, (*where, key), lines, file)
            lines[(*where, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*where, i), lines, file)


def line_of(lines: dict[Path_, int], where: Path_) -> int | None:
    """The line of ``where``, or of its nearest ancestor present in the file."""
    for n in range(len(where), -1, -1):
        if where[:n] in lines:
            return lines[where[:n]]
    return None


def _dotted(where: Path_) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted

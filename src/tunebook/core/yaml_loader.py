"""Read spec YAML the way a person means it.

Two fixes over PyYAML's safe loader: ``1e-4`` (no dot, a string in YAML 1.1)
reads as a number, and a key written twice in one mapping is an error rather
than silently keeping the last value. ``dump_yaml`` writes what ``load_yaml``
reads back unchanged: a string such as ``"1e5"``, which PyYAML's dumper
leaves bare, is quoted.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tunebook.core.errors import SpecError

_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class SpecLoader(yaml.SafeLoader):
    """SafeLoader that reads ``1e-4`` as a float and rejects duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue  # the SafeLoader reports an unhashable key, with its line
            if key in seen:
                line = key_node.start_mark.line + 1
                raise SpecError(f"line {line}: key '{key}' is given twice in the same mapping")
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def load_yaml(text: str, source: str | None = None) -> Any:
    """Parse spec YAML; syntax errors become SpecError with the line and column."""
    try:
        return yaml.load(text, Loader=SpecLoader)  # noqa: S506 - SpecLoader is a SafeLoader
    except SpecError as exc:
        raise SpecError(exc.problems, source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{where}YAML syntax error: {problem}", source) from None
    except (ValueError, TypeError) as exc:  # a constructor's own error, e.g. the date 2024-13-01
        raise SpecError(f"YAML value error: {exc}", source) from None


class SpecDumper(yaml.SafeDumper):
    """SafeDumper that quotes every string SpecLoader would read as something else (``"1e5"``)."""


SpecDumper.yaml_implicit_resolvers = SpecLoader.yaml_implicit_resolvers


def dump_yaml(data: Any, **options: Any) -> str:
    """``data`` as YAML that ``load_yaml`` reads back equal (options as ``yaml.safe_dump``'s)."""
    return yaml.dump(data, Dumper=SpecDumper, **options)

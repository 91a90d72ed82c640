"""YAML → plain Python values, remembering the line of every node.

PyYAML is used to compose nodes only; values are built here, so that unknown tags
(`!!python/object`, …) are refused, duplicate keys are caught (PyYAML silently keeps the
last), alias bombs cannot expand, and every value keeps the line it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import ConfigError, cut, quote

Path = tuple[Any, ...]

MAX_BYTES = 2_000_000  # a config is hand-written; anything larger is a mistake
# values as written, counted before composing: a 784-256-10 network's weight matrices
# (203,264 numbers) fit; a larger one is given by seeded initialisation
MAX_VALUES = 250_000
# values after expanding aliases (stops "billion laughs"): no more than may be written out,
# so an alias bomb costs what the largest plain file does, not eight times that
MAX_NODES = MAX_VALUES
MAX_DEPTH = 64
# what an empty file of each kind should hold, as its message says
_HOLDING = {
    "a config": " with at least `layers`, `weights` and `inputs`/`targets`",
    "an answers file": " with `exercise` and `answers`",
}
_WHOLE = re.compile(r"[-+\u2212]?\d+")

_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
}


def field_path(path: Path) -> str:
    """("weights", 1, 0) → "weights[1][0]"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + cut(str(part))  # a key as long as a file stays short
    return out


@dataclass
class Document:
    """A parsed YAML document: its plain value and where each part of it stands."""

    file: str
    value: Any
    lines: dict[Path, int] = field(default_factory=dict)
    columns: dict[Path, int] = field(default_factory=dict)
    texts: dict[Path, str] = field(default_factory=dict)  # scalars as written: "0.680"
    # where each scalar's value starts (line, column) and its style: "" plain, "'" or '"'
    # quoted, "|" or ">" block, "+" added when it spans several lines (an expression's
    # columns are exact on a single line only)
    scalars: dict[Path, tuple[int, int, str]] = field(default_factory=dict)

    def _found(self, path: Path) -> Path | None:
        """`path`, or its nearest ancestor that has a position (a missing key has none)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return path
            path = path[:-1]
        return () if () in self.lines else None

    def line(self, path: Path) -> int | None:
        """Line of the node at `path`, or of its nearest ancestor."""
        found = self._found(path)
        return None if found is None else self.lines[found]

    def column(self, path: Path) -> int | None:
        found = self._found(path)
        return None if found is None else self.columns.get(found)

    def decimal_comma(self, path: Path, length: int) -> str | None:
        """A list at `path` whose whole numbers, joined where only a comma stands between two
        (`[0,5, -0,2]`), make the `length` numbers expected: decimal commas (0,5 for 0.5) read
        as separate numbers. The first such pair, as written; None when it is not that."""
        count = 0
        while (*path, count) in self.texts:
            count += 1
        pairs, first, n = 0, None, 0
        while n + 1 < count:
            a, b = (*path, n), (*path, n + 1)
            left, right = self.texts[a], self.texts[b]
            if (
                _WHOLE.fullmatch(left)
                and right.isdigit()
                and self.lines.get(a) == self.lines.get(b)
                and self.columns.get(b) == self.columns.get(a, 0) + len(left) + 1
            ):
                pairs += 1
                first = first or f"{left},{right}"
                n += 2
            else:
                n += 1
        return first if first is not None and count - pairs == length else None

    def missing(self, key: str, problem: str) -> ConfigError:
        """A key that is not there: located where the mapping that should hold it starts."""
        return ConfigError(self.file, self.line(()), key, problem, self.column(()))

    def error(self, path: Path, problem: str) -> ConfigError:
        return ConfigError(
            self.file, self.line(path), field_path(path) or None, problem, self.column(path)
        )


def parse(text: str, file: str, what: str = "a config") -> Document:
    """Parse one YAML document into a `Document`, or raise `ConfigError`. `what`: the kind
    of file, as messages call it ("an answers file")."""
    seeded = " (use seeded initialisation for large layers)" if what == "a config" else ""
    if len(text) > MAX_BYTES:
        raise ConfigError(
            file,
            None,
            None,
            f"the file is {len(text):,} characters; {what} may have at most {MAX_BYTES:,}{seeded}",
        )
    crowded = _crowded(text)
    if crowded is not None:
        raise ConfigError(
            file,
            crowded,
            None,
            f"more than {MAX_VALUES:,} values; {what} may have at most that many{seeded}",
        )
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        what = " ".join(p for p in (err.context, err.problem) if p)
        # PyYAML quotes what it found (an alias, a tag): a short piece of it only
        what = re.sub(r"'([^']*)'", lambda m: quote(m.group(1)), what)
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]:
            what += " (the line has a tab: YAML indents with spaces, never tabs)"
        raise ConfigError(file, line, None, f"not valid YAML: {what}", column) from None
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        column = err.position - text.rfind("\n", 0, err.position)
        char = chr(err.character) if isinstance(err.character, int) else err.character
        raise ConfigError(
            file,
            line,
            None,
            f"not valid YAML: the character U+{ord(char):04X} is not allowed "
            "(a control character: is this a text file?)",
            column,
        ) from None
    except yaml.YAMLError as err:
        raise ConfigError(file, None, None, f"not valid YAML: {err}") from None
    finally:
        loader.dispose()
    if node is None:
        raise ConfigError(
            file,
            None,
            None,
            f"the file is empty; {what} is a mapping{_HOLDING.get(what, '')}",
        )
    doc = Document(file, None)
    # an alias is written `*name`: with no `*` there is none, and counting would only count
    # what `_plain` counts again (a 784-256-10 network's 200k values: 0.5 s saved)
    size = _expanded_size(node, {}, 0) if "*" in text else 0
    if size > MAX_NODES:
        problem = (
            "contains itself (an alias inside its own anchor)"
            if size == _CYCLE
            else f"expands to more than {MAX_NODES:,} values (aliases repeated too often?); "
            f"{what} may have at most that many"
        )
        raise ConfigError(
            file,
            node.start_mark.line + 1,
            None,
            f"the document {problem}",
            node.start_mark.column + 1,
        )
    counter = [0]
    doc.value = _plain(node, (), doc, counter, 0)
    return doc


_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.[0-9]+|[1-9][0-9]*|0)")
_FLOAT, _INT = "tag:yaml.org,2002:float", "tag:yaml.org,2002:int"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml's, where it is built in), with a quick answer for what a
    config is mostly made of — plain decimals (`0.15`, `-3`): the tags PyYAML's own resolver
    gives them, without its dozen regular expressions (a third of composing a large file)."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0] and _NUMBER.fullmatch(value):
            return _FLOAT if "." in value else _INT
        return super().resolve(kind, value, implicit)


def _crowded(text: str) -> int | None:
    """The line where a value past MAX_VALUES starts, found before any node is built (PyYAML
    builds 990k nodes in seconds); None when there are not that many, or without libyaml."""
    # every value after the first follows one of these, and a key with no value (`{a, b}`)
    # adds at most one more: a file with few of them is let through uncounted
    if 2 * sum(map(text.count, ",[{:-?\n")) + 2 <= MAX_VALUES:
        return None
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:  # counting in Python costs what composing does: MAX_NODES suffices
        return None
    values = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
    count = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            count += isinstance(event, values)
            if count > MAX_VALUES:
                return event.start_mark.line + 1
    except yaml.YAMLError:
        return None  # composing says what is wrong, and where
    return None


_CYCLE = 1 << 62  # the size of a node that contains itself: over any limit


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int) -> int:
    """How many values the node becomes once aliases are expanded, counted without expanding
    them: each distinct node once (a billion-laughs file costs microseconds, not minutes)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > MAX_DEPTH:
        return 1  # _plain reports the depth, with the place it happens
    memo[key] = _CYCLE  # while counting its children: meeting it again means a cycle
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            total += _expanded_size(item, memo, depth + 1)
            if total > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            total += _expanded_size(key_node, memo, depth + 1)
            total += _expanded_size(value_node, memo, depth + 1)
            if total > MAX_NODES:
                break
    memo[key] = min(total, _CYCLE)
    return memo[key]


def _plain(node: yaml.Node, path: Path, doc: Document, counter: list[int], depth: int) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise doc.error(
            path,
            f"the document expands to more than {MAX_NODES:,} values (aliases repeated too often?)",
        )
    if depth > MAX_DEPTH:
        raise doc.error(path, f"nested more than {MAX_DEPTH} levels deep")
    doc.lines.setdefault(path, node.start_mark.line + 1)
    doc.columns.setdefault(path, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            raise doc.error(
                path,
                f"the tag {_short(node.tag)} is not allowed; write plain "
                "numbers, text, lists and mappings",
            )
        doc.texts[path] = node.value
        spans = node.start_mark.line != node.end_mark.line and node.style not in ("|", ">")
        start = node.start_mark
        doc.scalars[path] = (start.line + 1, start.column + 1, (node.style or "") + "+" * spans)
        try:
            return _scalar(node)  # nan/inf pass: the field's own check knows what is valid
        except ValueError:  # Python reads integers of at most 4,300 digits
            raise doc.error(
                path, f"a whole number of {len(node.value):,} digits; no field takes one"
            ) from None
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise doc.error(path, f"the tag {_short(node.tag)} is not allowed")
        return [
            _plain(item, (*path, i), doc, counter, depth + 1) for i, item in enumerate(node.value)
        ]
    if isinstance(node, yaml.MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise doc.error(path, f"the tag {_short(node.tag)} is not allowed")
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    doc.file,
                    key_node.start_mark.line + 1,
                    field_path(path) or None,
                    "a key must be a plain name, not a list or mapping",
                    key_node.start_mark.column + 1,
                )
            if key_node.tag not in _SCALAR_TAGS:
                raise ConfigError(
                    doc.file,
                    key_node.start_mark.line + 1,
                    field_path(path) or None,
                    f"the tag {_short(key_node.tag)} is not allowed on a key; write a plain name",
                    key_node.start_mark.column + 1,
                )
            try:
                key = _scalar(key_node)
            except ValueError:  # an integer key of thousands of digits
                key = key_node.value
            key = key if isinstance(key, str) else str(key)
            line = key_node.start_mark.line + 1
            if key in out:
                raise ConfigError(
                    doc.file,
                    line,
                    field_path((*path, key)),
                    f"given twice, on line {first_line[key]} and line {line}; keep one",
                    key_node.start_mark.column + 1,
                )
            first_line[key] = line
            doc.lines[(*path, key)] = line
            doc.columns[(*path, key)] = key_node.start_mark.column + 1
            out[key] = _plain(value_node, (*path, key), doc, counter, depth + 1)
        return out
    raise doc.error(path, "unsupported YAML node")  # pragma: no cover - PyYAML has no other


def _short(tag: str) -> str:
    """tag:yaml.org,2002:python/object → !!python/object, as it was written."""
    short = "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag
    return cut(short)


_constructor = yaml.constructor.SafeConstructor()


_resolver = yaml.resolver.Resolver()
MINUS = "\u2212"  # the minus sign the tool prints: −0.040681


def _scalar(node: yaml.ScalarNode) -> Any:
    value, tag = node.value, node.tag
    if (tag is _FLOAT or tag is _INT) and _NUMBER.fullmatch(value):
        # a plain decimal, what the safe constructor reads as Python reads it (no `_`, no
        # sexagesimal, no base): most of a config, read without its generic path
        if tag is _FLOAT and "." in value:
            return float(value)
        if tag is _INT and "." not in value:
            return int(value)
    # the safe constructor's own rule for the resolved tag, without its object cache
    if not node.style and node.tag == "tag:yaml.org,2002:str" and MINUS in node.value:
        # a number copied from the trace, with its minus sign (U+2212): read as a minus
        text = node.value.replace(MINUS, "-")
        tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            node = yaml.ScalarNode(tag, text, node.start_mark, node.end_mark)
    return _constructor.yaml_constructors[node.tag](_constructor, node)

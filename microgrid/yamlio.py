"""Safe YAML loading that remembers the line of every key, for error messages.

Any text costs bounded time and memory: the file size is capped, and before anything
recursive (composing, constructing, pydantic) sees the document, one iterative pass over
the parser's events refuses deep nesting, recursive aliases and documents that expand
(through aliases) to more values than any scenario needs (a 1 KB "billion laughs").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from microgrid.datafiles import MIB, read_text_file
from microgrid.errors import InputError

LineMap = dict[tuple, int]

# A scenario or sweep spec is a few KB; 5 MiB leaves room for long inline lists and keeps
# the event scan of the largest accepted file near 1 s.
MAX_YAML_BYTES = 5 * MIB
# The scenario schema is at most 5 levels deep; 64 leaves room without reaching Python's
# recursion limit in the composer, the line map or pydantic.
MAX_DEPTH = 64
# Values after alias expansion (each scalar, list and mapping counts one). The cap covers
# a scenario with every list of the schema at its length cap at once, each item with all
# its fields written (a mapping of n scalar fields is 1 + 2n values):
#   jobs.items             10,000 x 25 (12 fields: a window in one form)  250,000
#   events.*                1,000 x (5 outage + 9 demand response + 9 derate)  23,000
#   operate.events          1,000 x 11                                   11,000
#   demand_response_program.events  1,000 x 5                             5,000
#   generators                100 x 11                                    1,100
# 290,100 in all (tests/microgrid/test_yaml_caps.py recomputes it from the models), plus
# about 10,000 for everything else (the shipped scenarios have about 200 values). Such a
# file loads in about 15 s (261,000 values: 7.4 s to compose the YAML and 5.7 s more for
# the schema, on a 2-core machine). More is not a scenario the schema accepts: an alias bomb
# (1 KB of text can expand to billions of values), or a list to give as a CSV file.
MAX_NODES = 300_000

# A key at column 0 of a block mapping: the section a line of a scenario belongs to.
_TOP_LEVEL_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:(?:\s|$)")

# libyaml's parser is about 20 times faster than the pure Python one, and both are safe.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_Base):
    """Safe loader that rejects duplicate and non-scalar keys, and reports a value it
    cannot convert (e.g. `!!int abc`) with its position instead of a bare Python error."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            if isinstance(exc, yaml.YAMLError):
                raise
            tag = str(node.tag).rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this {tag} value ({exc})", node.start_mark
            ) from None


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "merge keys (<<) are not supported: write the keys out (an alias of a whole "
                "value, `battery: *b`, works)",
                key_node.start_mark,
            )
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a list or mapping cannot be a key", key_node.start_mark
            )
        key = loader.construct_object(key_node)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_INT_TAG = "tag:yaml.org,2002:int"
# Integers as YAML 1.2 reads them: decimal even with leading zeros (YAML 1.1 read `010` as
# octal 8 and `1:30` as base 60, 90, without a word), 0x.. hexadecimal, 0o.. octal and
# 0b.. binary; `_` may group digits as in 1_000, between two digits only (as Python's
# `int` takes them: YAML 1.1 also read `1_` and `1__0`, and `1_e3` as 1000.0).
_INT_RX = re.compile(
    r"^[-+]?(?:[0-9]+(?:_[0-9]+)*|0x[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*"
    r"|0o[0-7]+(?:_[0-7]+)*|0b[01]+(?:_[01]+)*)$"
)
_INT_BASES = {"0x": 16, "0o": 8, "0b": 2}


def _construct_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    base = _INT_BASES.get(digits[:2].lower())
    return sign * (int(digits[2:], base) if base else int(digits, 10))


_FLOAT_TAG = "tag:yaml.org,2002:float"
# Floats as YAML 1.2 reads them: an exponent needs no dot and no sign (YAML 1.1 read `1e2`
# and `2.0e2` as text, which then became a text column in a sweep's table), `.5`, `5.`,
# .inf and .nan; `_` may group digits as in integers. No base-60 `1:30.5` (as integers).
_FLOAT_RX = re.compile(
    r"""^(?:[-+]?(?:[0-9]+(?:_[0-9]+)*(?:\.(?:[0-9]+(?:_[0-9]+)*)?)?|\.[0-9]+(?:_[0-9]+)*)
    (?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


def _implicit_resolvers() -> dict:
    """YAML 1.1's implicit types but timestamps (the scenario decides their time zone,
    so they stay strings) and with 1.2's integers and floats (`_INT_RX`, `_FLOAT_RX`;
    an integer is tried first: `100` stays an int)."""
    resolvers: dict = {}
    dropped = ("tag:yaml.org,2002:timestamp", _INT_TAG, _FLOAT_TAG)
    for first, pairs in yaml.SafeLoader.yaml_implicit_resolvers.items():
        resolvers[first] = [(tag, rx) for tag, rx in pairs if tag not in dropped]
    for first in "-+0123456789":
        resolvers.setdefault(first, []).append((_INT_TAG, _INT_RX))
    for first in "-+0123456789.":
        resolvers.setdefault(first, []).append((_FLOAT_TAG, _FLOAT_RX))
    return resolvers


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_UniqueKeyLoader.add_constructor(_INT_TAG, _construct_int)
_UniqueKeyLoader.yaml_implicit_resolvers = _implicit_resolvers()


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper that also knows the loader's implicit types: it quotes a
    string the loader would read as something else (`1e3`, which YAML 1.1 writes bare),
    and still one YAML 1.1 would (a timestamp: other readers of the file, kubectl's)."""


def _dumper_resolvers() -> dict:
    merged = {k: list(v) for k, v in yaml.SafeDumper.yaml_implicit_resolvers.items()}
    for first, pairs in _implicit_resolvers().items():
        merged.setdefault(first, []).extend(p for p in pairs if p not in merged[first])
    return merged


_Dumper.yaml_implicit_resolvers = _dumper_resolvers()


def dump_yaml(data: Any, **options: Any) -> str:
    """``data`` as YAML text that `load_yaml` reads back equal (``yaml.safe_dump``'s
    options)."""
    return yaml.dump(data, Dumper=_Dumper, **options)


def _check_printable(text: str, path: Path) -> None:
    """Refuse characters YAML does not allow (NUL, other controls) with line and column."""
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad is None:
        return
    pos = bad.start()
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    raise InputError(
        f"control character U+{ord(bad.group()):04X} at column {column} is not allowed in YAML",
        path=str(path),
        line=line,
    )


def _check_size_and_depth(text: str, path: Path) -> None:
    """One iterative pass over the parse events: nesting depth, recursive aliases and the
    number of values after alias expansion are bounded before anything recurses."""
    nodes = written = 0
    anchor_nodes: dict[str, int] = {}  # anchor -> values it expands to
    open_nodes: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes before)
    for event in yaml.parse(text, Loader=_UniqueKeyLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_nodes):
                raise InputError(
                    f"alias *{event.anchor} refers to a list or mapping that contains it",
                    path=str(path),
                    line=line,
                )
            nodes += anchor_nodes.get(event.anchor, 1)  # an unknown one: the composer says so
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor:
                anchor_nodes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_nodes.append((event.anchor, nodes))
            nodes += 1
            if len(open_nodes) > MAX_DEPTH:
                raise InputError(
                    f"nested more than {MAX_DEPTH} levels deep", path=str(path), line=line
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_nodes.pop()
            if anchor:
                anchor_nodes[anchor] = nodes - before
        written += isinstance(event, yaml.NodeEvent)  # as written: an alias is one
        if nodes > MAX_NODES:
            message = _too_many_values(text, line, written)
            raise InputError(message, path=str(path), line=line)


def _too_many_values(text: str, line: int, written: int) -> str:
    """Why a document over MAX_NODES values is refused (`written`: its values so far as
    written, an alias counting one), and what to do."""
    if written <= MAX_NODES // 2:  # most of them are copies made by aliases
        return (
            f"more than {MAX_NODES:,} values with aliases expanded, from {written:,} "
            "written: an alias bomb, or aliases that repeat too much; write fewer aliases"
        )
    section = _top_level_key_before(text, line)
    where = f" (in section {section!r})" if section else ""
    return (
        f"more than {MAX_NODES:,} values{where}, more than a scenario at every list cap "
        "of the schema holds: give a long job list as a CSV file (jobs.csv), "
        "or shorten the lists"
    )


def _top_level_key_before(text: str, line: int) -> str | None:
    """The block-style top-level key whose section holds `line` (1-based), if any."""
    for row in reversed(text.splitlines()[:line]):
        match = _TOP_LEVEL_KEY.match(row)
        if match:
            return match.group(1)
    return None


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _line_map(node: yaml.Node, path: tuple = (), out: LineMap | None = None) -> LineMap:
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = path + (key_node.value,)
            out[key_path] = key_node.start_mark.line + 1
            _line_map(value_node, key_path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, path + (i,), out)
    return out


def load_yaml(path: str | Path, max_bytes: int = MAX_YAML_BYTES) -> tuple[Any, LineMap]:
    """Read a YAML file safely; return the data and a map from key path to line number.

    Every problem is an InputError naming the file and, where known, the line: unreadable,
    empty-of-text or too large (over `max_bytes` bytes), not UTF-8, control characters,
    syntax, nesting deeper than MAX_DEPTH, more than MAX_NODES values, bad keys or values.
    """
    path = Path(path)
    text = read_text_file(path, max_bytes)
    _check_printable(text, path)
    try:
        _check_size_and_depth(text, path)
        node, data = _compose_and_construct(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "syntax error"
        raise InputError(f"invalid YAML: {problem}", path=str(path), line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", path=str(path)) from None
    return data, (_line_map(node) if node is not None else {})


def line_of(lines: LineMap, loc: tuple) -> int | None:
    """Line of the deepest known prefix of a key path."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())

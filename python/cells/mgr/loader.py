"""Load manifests from the config dir and report every problem with a place.

YAML is composed into nodes (so every value keeps its line and column),
converted to plain data, validated against the JSON Schema and then checked
for what a schema cannot say (mount targets, addresses, duplicate names,
missing volumes, dependency cycles).  Files are size-capped, and YAML
aliases and deep nesting are refused before anything is composed
(`cells.mgr.limits`).  Each problem is one line,
`file:line:col: key: problem`; if there is any, `ManifestError` carries all
of them and nothing else happens.  Callers: cellmgr validate/plan/apply,
the daemon.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from cells.errors import CellsError, InvalidArgument
from cells.mgr import checks, deps, limits
from cells.mgr.model import (
    Cell,
    Mount,
    Source,
    Volume,
    cell_from_doc,
    size,
    volume_from_doc,
)
from cells.mgr.schema import KINDS, PATTERN_PROBLEMS, PROVISION_STEPS

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.key}: {self.message}"


class ManifestError(InvalidArgument):
    """One or more manifest problems; str() is one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Desired:
    """Everything the manifests ask for."""

    cells: dict[str, Cell] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)


@dataclass
class _Doc:
    file: str
    data: Any
    start: tuple[int, int]
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """The best known position of `path` (or of its nearest parent)."""
        p = tuple(path)
        while True:
            if key and p in self.key_marks:
                return self.key_marks[p]
            if p in self.marks:
                return self.marks[p]
            if not p:
                return self.start
            p = p[:-1]

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        line, col = self.at(path, key=key)
        return Problem(self.file, line, col, dotted(path), message)


def dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(document)"


def _pos(mark: yaml.Mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


class _Converter:
    """Node tree → plain data, recording the position of every value."""

    def __init__(self, doc: _Doc, problems: list[Problem]) -> None:
        self.doc = doc
        self.problems = problems
        self.scalars = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.marks[path] = _pos(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for knode, vnode in node.value:
                key = self.convert(knode, (*path, "<key>"))
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    key = str(key)
                kpath = (*path, str(key))
                if key in out:
                    self.problems.append(
                        Problem(
                            self.doc.file,
                            *_pos(knode.start_mark),
                            dotted(kpath),
                            "duplicate key; each key may appear once",
                        )
                    )
                    continue
                self.doc.key_marks[kpath] = _pos(knode.start_mark)
                out[key] = self.convert(vnode, kpath)
            self.doc.marks.pop((*path, "<key>"), None)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(v, (*path, i)) for i, v in enumerate(node.value)]
        return self.scalars.construct_object(node)


def _read(file: Path, shown: str, problems: list[Problem], budget: list[int]) -> list[_Doc]:
    """The documents of one file; `budget` holds the bytes all files may still use."""
    try:
        data = limits.read_capped(file, min(limits.MAX_FILE_BYTES, budget[0]))
        text = data.decode("utf-8")
    except limits.TooLarge:
        if budget[0] < limits.MAX_FILE_BYTES:
            why = (
                f"the manifests together are larger than {limits.human(limits.total_bytes())}"
                f" (set {limits.TOTAL_ENV} to allow more)"
            )
        else:
            why = f"larger than {limits.human(limits.MAX_FILE_BYTES)}; split the manifest"
        problems.append(Problem(shown, 1, 1, "(file)", why))
        return []
    except InvalidArgument as e:
        problems.append(Problem(shown, 1, 1, "(file)", f"{e}; a manifest must be a regular file"))
        return []
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem(shown, 1, 1, "(file)", f"cannot read: {e}"))
        return []
    budget[0] -= len(data)
    try:
        return _parse(text, shown, problems, _FAST_LOADER)
    except yaml.YAMLError as fast_error:
        error: yaml.YAMLError = fast_error
    if _FAST_LOADER is not yaml.SafeLoader:
        # Parse again with the pure-Python parser: its messages are clearer.
        try:
            return _parse(text, shown, problems, yaml.SafeLoader)
        except yaml.YAMLError as slow_error:
            error = slow_error
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, col = _pos(mark) if mark is not None else (1, 1)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    problems.append(Problem(shown, line, col, "yaml", f"{problem}; fix the YAML syntax"))
    return []


def _parse(text: str, shown: str, problems: list[Problem], loader: Any) -> list[_Doc]:
    guard = _guard(text, shown, loader)
    if guard is not None:
        problems.append(guard)
        return []
    return _compose(text, shown, problems, loader)


#: libyaml's parser when PyYAML was built with it (much faster), else pure Python.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _guard(text: str, shown: str, loader: Any) -> Problem | None:
    """Refuse what would make composing explode, before composing: an alias
    (a kilobyte of nested aliases expands to gigabytes) and nesting deeper
    than limits.MAX_DEPTH (the composer and converter recurse).  Works on
    the parser's events, so no node is built for a refused file."""
    level = 0
    for event in yaml.parse(text, Loader=loader):
        mark: Any = event.start_mark
        line, col = _pos(mark) if mark is not None else (1, 1)
        if isinstance(event, yaml.AliasEvent):
            return Problem(shown, line, col, "yaml", "aliases are not allowed; write the value out")
        if isinstance(event, yaml.CollectionStartEvent):
            level += 1
            if level > limits.MAX_DEPTH:
                return Problem(
                    shown,
                    line,
                    col,
                    "yaml",
                    f"nested deeper than {limits.MAX_DEPTH} levels; a manifest is much flatter",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            level -= 1
    return None


def _compose(text: str, shown: str, problems: list[Problem], loader: Any) -> list[_Doc]:
    docs: list[_Doc] = []
    converted: list[Problem] = []
    for node in yaml.compose_all(text, Loader=loader):
        if node is None:
            continue
        doc = _Doc(shown, None, _pos(node.start_mark))
        doc.data = _Converter(doc, converted).convert(node, ())
        docs.append(doc)
    problems.extend(converted)
    return docs


_VALIDATORS = {kind: Draft202012Validator(schema) for kind, schema in KINDS.items()}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}


def _typename(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty" if value is None else type(value).__name__


def _only_type(error: ValidationError) -> bool:
    """True when the error only says "wrong type" (this branch does not apply)."""
    if error.validator in ("anyOf", "oneOf"):
        return all(_only_type(c) for c in error.context or ())
    return error.validator == "type" and not error.relative_path


def _pick(error: ValidationError) -> ValidationError:
    """For anyOf: the branch whose type matches the value, else the error itself."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        typed = [e for e in error.context if not _only_type(e)]
        if typed:
            return _pick(min(typed, key=lambda e: -len(e.relative_path)))
    return error


def _schema_problem(doc: _Doc, error: ValidationError) -> Problem:
    picked = _pick(error)
    path: Path_ = tuple(picked.absolute_path)
    v = picked.validator
    inst: Any = picked.instance
    arg: Any = picked.validator_value
    if v in ("anyOf", "oneOf"):
        kinds = sorted({_TYPE_NAMES.get(str(s.get("type")), "") for s in arg} - {""})
        return doc.problem(path, f"must be {' or '.join(kinds)}; got {_typename(inst)}")
    if v == "required":
        missing = next(k for k in arg if k not in inst)
        return doc.problem((*path, missing), "required field is missing")
    if v == "additionalProperties":
        schema: Any = picked.schema
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)[0]
        hint = difflib.get_close_matches(str(extra), allowed, n=1)
        tail = f"; did you mean {hint[0]!r}?" if hint else f"; known: {', '.join(allowed)}"
        return doc.problem((*path, extra), "unknown field" + tail, key=True)
    if v == "enum" and "propertyNames" in picked.schema_path:
        return doc.problem((*path, inst), f"unknown limit; use one of {', '.join(arg)}", key=True)
    if v == "enum":
        return doc.problem(path, f"must be one of {', '.join(map(str, arg))}; got {inst!r}")
    if v == "const":
        return doc.problem(path, f"must be {arg!r}; got {inst!r}")
    if v == "type":
        return doc.problem(path, f"must be {_TYPE_NAMES.get(arg, arg)}; got {_typename(inst)}")
    if v == "pattern":
        what = PATTERN_PROBLEMS.get(arg, f"must match {arg}")
        return doc.problem(path, f"{inst!r} is invalid: {what}")
    if v == "minimum":
        return doc.problem(path, f"must be at least {arg}; got {inst}")
    if v == "maximum":
        return doc.problem(path, f"must be at most {arg}; got {inst}")
    if v == "maxItems":
        return doc.problem(path, f"at most {arg} entries allowed; got {len(inst)}")
    if v in ("minItems", "minLength"):
        return doc.problem(path, "must not be empty")
    if v == "uniqueItems":
        return doc.problem(path, "entries must be unique")
    if v in ("minProperties", "maxProperties"):
        return doc.problem(path, "a step has exactly one kind: " + ", ".join(PROVISION_STEPS))
    return doc.problem(path, picked.message)


def _schema_problems(doc: _Doc, validator: Draft202012Validator) -> list[Problem]:
    return [_schema_problem(doc, e) for e in validator.iter_errors(doc.data)]


def _cell_checks(doc: _Doc) -> list[Problem]:
    """What the schema cannot express, inside one Cell document."""
    d = doc.data
    out: list[Problem] = []
    for i, addr in enumerate(d.get("bind_addrs", [])):
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            out.append(doc.problem(("bind_addrs", i), f"{addr!r} is not an IPv4 or IPv6 address"))
    for name, value in d.get("rlimits", {}).items():
        if isinstance(value, dict) and size(value["soft"]) > size(value["hard"]):
            out.append(doc.problem(("rlimits", name), "soft limit exceeds hard limit"))
    seen: list[tuple[int, Mount]] = []
    for i, text in enumerate(d.get("mounts", [])):
        m = Mount.parse(text)
        raw = text.split(":")[1]
        if ".." in raw.split("/"):
            out.append(doc.problem(("mounts", i), "target must not contain '..'"))
        elif m.target == "/":
            out.append(
                doc.problem(("mounts", i), "cannot mount over the cell's root; pick a directory")
            )
        elif m.target == "/dev" or m.target.startswith("/dev/"):
            out.append(
                doc.problem(
                    ("mounts", i), "/dev is the cell's own device directory; mount elsewhere"
                )
            )
        else:
            for j, other in seen:
                a, b = m.target + "/", other.target + "/"
                if a.startswith(b) or b.startswith(a):
                    out.append(
                        doc.problem(("mounts", i), f"target overlaps mounts[{j}] ({other.target})")
                    )
                    break
            seen.append((i, m))
    hc = d.get("healthcheck")
    if hc is not None and "service" not in d:
        out.append(doc.problem(("healthcheck",), "a healthcheck needs a service to check"))
    for i, step in enumerate(d.get("provision", [])):
        if "exec" in step and not {"creates", "unless"} & set(step["exec"]):
            out.append(
                doc.problem(
                    ("provision", i, "exec"),
                    "exec needs a guard: add creates: PATH or unless: COMMAND",
                )
            )
    return out


def _set_checks(docs: list[_Doc]) -> list[Problem]:
    """Across documents: unique names, volumes exist, ports, dependencies."""
    out: list[Problem] = []
    first: dict[tuple[str, str], _Doc] = {}
    ports: dict[int, str] = {}
    cells: dict[str, _Doc] = {}
    volumes: set[str] = set()
    for doc in docs:
        kind, name = doc.data["kind"], doc.data["name"]
        if (kind, name) in first:
            prev = first[(kind, name)]
            line, col = prev.at(("name",))
            out.append(
                doc.problem(
                    ("name",),
                    f"{kind.lower()} {name!r} is already defined at {prev.file}:{line}:{col}",
                )
            )
            continue
        first[(kind, name)] = doc
        if kind == "Volume":
            volumes.add(name)
        else:
            cells[name] = doc
    for name, doc in cells.items():
        for i, port in enumerate(doc.data.get("ports", [])):
            if port in ports:
                out.append(
                    doc.problem(
                        ("ports", i), f"port {port} is also reserved by cell {ports[port]!r}"
                    )
                )
            else:
                ports[port] = name
        for i, text in enumerate(doc.data.get("mounts", [])):
            vol = text.split(":")[0]
            if vol not in volumes:
                out.append(
                    doc.problem(
                        ("mounts", i), f"no Volume named {vol!r}; define it with kind: Volume"
                    )
                )
    try:
        deps.order({n: list(d.data.get("depends_on", [])) for n, d in cells.items()})
    except deps.DependencyError as e:
        path: Path_ = ("depends_on",) if e.index is None else ("depends_on", e.index)
        out.append(cells[e.cell].problem(path, str(e)))
    return out


def load_files(files: Sequence[Path], base: Path | None = None) -> Desired:
    """Load and check these files; raise ManifestError listing every problem."""
    problems: list[Problem] = []
    good: list[_Doc] = []
    budget = [limits.total_bytes()]
    for file in files:
        shown = str(file)
        for doc in _read(file, shown, problems, budget):
            before = len(problems)
            if not isinstance(doc.data, dict):
                problems.append(
                    doc.problem(
                        (), "a manifest document must be a mapping with kind: Cell or Volume"
                    )
                )
                continue
            kind = doc.data.get("kind")
            if kind is None:
                problems.append(
                    doc.problem(
                        ("kind",), "required field is missing; add kind: Cell or kind: Volume"
                    )
                )
                continue
            if not isinstance(kind, str) or kind not in KINDS:
                problems.append(
                    doc.problem(("kind",), f"unknown kind {kind!r}; use Cell or Volume")
                )
                continue
            problems.extend(_schema_problems(doc, _VALIDATORS[kind]))
            if len(problems) == before and kind == "Cell":
                problems.extend(_cell_checks(doc))
                problems.extend(doc.problem(w, m) for w, m in checks.cell(doc.data))
            if len(problems) == before and kind == "Volume":
                problems.extend(doc.problem(w, m) for w, m in checks.volume(doc.data))
            if len(problems) == before:
                good.append(doc)
    problems.extend(_set_checks(good))
    if problems:
        raise ManifestError(problems)
    desired = Desired()
    for doc in good:
        line, col = doc.start
        src = Source(doc.file, line, col)
        if doc.data["kind"] == "Cell":
            desired.cells[doc.data["name"]] = cell_from_doc(doc.data, src)
        else:
            desired.volumes[doc.data["name"]] = volume_from_doc(doc.data, src)
    return desired


def manifest_files(config_dir: Path) -> list[Path]:
    if not config_dir.is_dir():
        raise CellsError(
            f"config dir {config_dir} does not exist; create it or set "
            "--config-dir / CELLS_CONFIG_DIR"
        )
    return sorted(p for p in config_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_dir(config_dir: Path) -> Desired:
    return load_files(manifest_files(config_dir))

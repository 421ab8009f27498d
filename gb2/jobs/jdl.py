"""DIRAC JDL (ClassAd) reading and writing.

The client writes JDL for DiracX's ``POST /api/jobs/jdl``; the embedded server
reads it back. The grammar is the subset DIRAC uses: ``[ Name = value; ... ]``
where a value is a string, a number, a ``{list}``, a nested ``[classad]`` or a
bare expression (kept verbatim). Attribute names compare case-insensitively, as
in ClassAds. DIRAC's own parser (DIRACCommon) is not used: it needs pydantic and
is GPL-3, and the grammar is small.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Union


class JDLError(ValueError):
    """The text is not valid JDL."""


@dataclass(frozen=True)
class Expr:
    """A value kept as written (e.g. ``other.Site == "X"``, ``true``)."""

    text: str

    def __str__(self) -> str:
        return self.text


Value = Union[str, int, float, Expr, list["Value"], "ClassAd"]


class ClassAd(dict):
    """Attributes in insertion order; lookups ignore case."""

    def _key(self, name: str) -> str | None:
        if dict.__contains__(self, name):
            return name
        lower = name.lower()
        return next((k for k in self if k.lower() == lower), None)

    def get_ci(self, name: str, default: object = None) -> object:
        key = self._key(name)
        return self[key] if key is not None else default

    def has(self, name: str) -> bool:
        return self._key(name) is not None

    def set_ci(self, name: str, value: object) -> None:
        key = self._key(name)
        self[key if key is not None else name] = value

    def pop_ci(self, name: str, default: object = None) -> object:
        key = self._key(name)
        return self.pop(key) if key is not None else default

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.get_ci(name)
        if value is None:
            return default
        if isinstance(value, list):
            return str(value[0]) if value else default
        return str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.get_ci(name)
        if value is None or isinstance(value, (list, ClassAd)):
            return default
        try:
            return int(str(value))
        except ValueError:
            try:
                return int(float(str(value)))
            except ValueError:
                return default

    def strings(self, name: str) -> list[str]:
        """A list attribute as strings (a scalar counts as a one-element list)."""
        value = self.get_ci(name)
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        text = str(value).strip()
        return [text] if text else []


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<punct>[\[\]{};=,])
  | (?P<word>[^\s\[\]{};=,"]+)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(text: str) -> Iterator[tuple[str, str, int, int]]:
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise JDLError(f"unexpected character {text[pos]!r} at offset {pos}")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            yield kind or "", m.group(), m.start(), m.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokens(text))
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i][:2] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise JDLError("unexpected end of JDL")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        kind, text = self.take()
        if text != value:
            raise JDLError(f"expected {value!r}, found {text!r}")

    def classad(self, bracketed: bool) -> ClassAd:
        ad = ClassAd()
        while True:
            tok = self.peek()
            if tok is None:
                if bracketed:
                    raise JDLError("missing closing ']'")
                return ad
            if tok[1] == "]":
                if not bracketed:
                    raise JDLError("unexpected ']'")
                self.take()
                return ad
            if tok[1] == ";":
                self.take()
                continue
            kind, name = self.take()
            if kind != "word" or not re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", name):
                raise JDLError(f"invalid attribute name {name!r}")
            self.expect("=")
            ad.set_ci(name, self.value())
            nxt = self.peek()
            if nxt is not None and nxt[1] not in (";", "]"):
                raise JDLError(f"expected ';' after attribute {name}, found {nxt[1]!r}")

    def value(self) -> Value:
        kind, text = self.take()
        if kind == "string":
            return _unquote(text)
        if text == "{":
            items: list[Value] = []
            if self.peek() is not None and self.peek()[1] == "}":  # type: ignore[index]
                self.take()
                return items
            while True:
                items.append(self.value())
                sep = self.take()[1]
                if sep == "}":
                    return items
                if sep != ",":
                    raise JDLError(f"expected ',' or '}}' in list, found {sep!r}")
        if text == "[":
            return self.classad(bracketed=True)
        if kind == "word" or text == "=":
            # A bare expression runs to the end of the attribute; keep its source text.
            start = self.tokens[self.i - 1][2]
            end = self.tokens[self.i - 1][3]
            while self.peek() is not None and self.peek()[1] not in (";", "]", ",", "}"):  # type: ignore[index]
                end = self.tokens[self.i][3]
                self.take()
            source = self.text[start:end]
            return _number_or_expr(source) if source == text else Expr(source)
        raise JDLError(f"unexpected {text!r}")


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: m.group(1), body)


def _number_or_expr(text: str) -> Value:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", text):
        return float(text)
    return Expr(text)


def parse(text: str) -> ClassAd:
    """Parse one JDL; the outer brackets are optional, as DiracX allows."""
    stripped = text.strip()
    if not stripped:
        raise JDLError("empty JDL")
    parser = _Parser(stripped)
    if stripped.startswith("["):
        parser.take()
        ad = parser.classad(bracketed=True)
        if parser.peek() is not None:
            raise JDLError("text after the closing ']'")
    else:
        ad = parser.classad(bracketed=False)
    if not ad:
        raise JDLError("JDL has no attributes")
    return ad


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format(value: object, indent: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, Mapping):
        return dumps(value, indent=indent + "    ", closing_indent=indent)
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_format(v, indent) for v in value) + "}"
    return quote(str(value))


def dumps(ad: Mapping[str, object], indent: str = "    ", closing_indent: str = "") -> str:
    """Write a ClassAd as JDL text, one attribute per line."""
    lines = [f"{indent}{name} = {_format(value, indent)};" for name, value in ad.items() if value is not None]
    return "[\n" + "\n".join(lines) + f"\n{closing_indent}]"


def attribute_names(ad: ClassAd) -> frozenset[str]:
    return frozenset(k.lower() for k in ad)


# -- parametric jobs ----------------------------------------------------------------------


def parameter_count(ad: ClassAd) -> int | None:
    """Number of jobs a parametric JDL describes; None if it is not parametric."""
    count: int | None = None
    for name, value in ad.items():
        if name.split(".", 1)[0].lower() != "parameters":
            continue
        n = len(value) if isinstance(value, list) else (ad.integer(name) or 0)
        if count is not None and count != n:
            raise JDLError(f"Different length of parameter vectors: for {name}, {count} != {n}")
        count = n
    if count is not None and count <= 0:
        raise JDLError(f"Illegal number of job parameters {count}")
    return count


def expand_parametric(ad: ClassAd) -> list[ClassAd]:
    """Expand ``Parameters`` the way DIRAC does: ``%s``/``%(name)s`` and ``%n`` substitution.

    A list gives the values; an integer N with ``ParameterStart``/``ParameterStep``/
    ``ParameterFactor`` gives a numeric sequence. Each job gets ``Parameter`` and
    ``ParameterNumber`` attributes.
    """
    n = parameter_count(ad)
    if n is None:
        return [ad]
    sequences: dict[str, list[object]] = {}
    for name in list(ad):
        if name.split(".", 1)[0].lower() != "parameters":
            continue
        seq_id = "0" if "." not in name else name.split(".", 1)[1]
        value = ad[name]
        if isinstance(value, list):
            sequences[seq_id] = list(value)
        else:
            suffix = "" if seq_id == "0" else f".{seq_id}"
            start = _num(ad.get_ci("ParameterStart" + suffix), 1)
            step = _num(ad.get_ci("ParameterStep" + suffix), 0)
            factor = _num(ad.get_ci("ParameterFactor" + suffix), 1)
            seq: list[object] = [start]
            for _ in range(1, n):
                seq.append(seq[-1] * factor + step)  # type: ignore[operator]
            sequences[seq_id] = seq
    width = len(str(n - 1))
    jobs = []
    for i in range(n):
        job = ClassAd()
        for name, value in ad.items():
            base = name.split(".", 1)[0].lower()
            if base in ("parameters", "parameterstart", "parameterstep", "parameterfactor"):
                continue
            job[name] = _substitute(value, sequences, i, width)
        for seq_id, seq in sequences.items():
            job["Parameter" if seq_id == "0" else f"Parameter.{seq_id}"] = _param_value(seq[i])
        job["ParameterNumber"] = i
        jobs.append(job)
    return jobs


def _num(value: object, default: float) -> float | int:
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return value
    try:
        return int(str(value))
    except ValueError:
        return float(str(value))


def _param_value(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _substitute(value: object, sequences: dict[str, list[object]], i: int, width: int) -> object:
    if isinstance(value, str):
        text = value.replace("%n", str(i).zfill(width))
        for seq_id, seq in sequences.items():
            token = "%s" if seq_id == "0" else f"%({seq_id})s"
            text = text.replace(token, str(_param_value(seq[i])))
        return text
    if isinstance(value, list):
        out: list[object] = []
        for item in value:
            sub = _substitute(item, sequences, i, width)
            # A list parameter spliced into a list attribute: {"%s"} with value {a, b}
            if isinstance(item, str) and item in ("%s",) and isinstance(sequences.get("0", [None])[i], list):
                out.extend(sequences["0"][i])  # type: ignore[arg-type]
            else:
                out.append(sub)
        return out
    if isinstance(value, ClassAd):
        return ClassAd({k: _substitute(v, sequences, i, width) for k, v in value.items()})
    return value


def lfn_list(values: Iterable[str]) -> list[str]:
    """InputData entries without DIRAC's optional ``LFN:`` prefix."""
    return [v[4:] if v.upper().startswith("LFN:") else v for v in values if v]

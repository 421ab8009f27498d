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
    """Attributes in insertion order; lookups ignore case (through an index of the lower-case
    names, kept by every method that changes the keys: a job's ad is read many times)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._names: dict[str, str] = {}  # lower-case name -> the first key spelled so
        for key in self:
            self._names.setdefault(key.lower(), key)

    def __setitem__(self, key: str, value: object) -> None:
        if not dict.__contains__(self, key):
            self._names.setdefault(key.lower(), key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self._forget(key)

    def _forget(self, key: str) -> None:
        lower = key.lower()
        if self._names.get(lower) == key:
            del self._names[lower]
            other = next((k for k in self if k.lower() == lower), None)
            if other is not None:
                self._names[lower] = other

    def pop(self, key: str, *default: object) -> object:  # type: ignore[override]
        if not dict.__contains__(self, key):
            return dict.pop(self, key, *default)
        value = dict.pop(self, key)
        self._forget(key)
        return value

    def popitem(self) -> tuple[str, object]:
        key, value = dict.popitem(self)
        self._forget(key)
        return key, value

    def clear(self) -> None:
        dict.clear(self)
        self._names.clear()

    def update(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: object = None) -> object:  # type: ignore[override]
        if not dict.__contains__(self, key):
            self[key] = default
        return dict.__getitem__(self, key)

    def __ior__(self, other: object) -> ClassAd:  # type: ignore[override]
        self.update(other)
        return self

    def __or__(self, other: object) -> ClassAd:  # type: ignore[override]
        merged = ClassAd(self)
        merged.update(other)
        return merged

    def copy(self) -> ClassAd:  # type: ignore[override]
        return ClassAd(self)

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> ClassAd:
        import copy

        return ClassAd({k: copy.deepcopy(v, memo) for k, v in self.items()})

    def __reduce__(self) -> tuple:
        return (ClassAd, (dict(self),))

    def _key(self, name: str) -> str | None:
        if dict.__contains__(self, name):
            return name
        return self._names.get(name.lower())

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
    for m in _TOKEN.finditer(text):
        start = m.start()
        if start != pos:  # a character no token matches (finditer would skip it)
            break
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            yield kind or "", m.group(), start, pos
    if pos < len(text):
        raise JDLError(f"unexpected character {text[pos]!r} at offset {pos}")


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


_ESCAPE = re.compile(r"\\(.)")


def _unquote(text: str) -> str:
    body = text[1:-1]
    return _ESCAPE.sub(r"\1", body) if "\\" in body else body


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


def parse_many(texts: Iterable[str]) -> list[ClassAd]:
    """Parse the JDLs of one bulk submission, as :func:`parse` would one by one.

    JDLs written one attribute per line (as gb2 and DIRAC write them) share most of
    their lines: each distinct line is parsed once and its attributes reused (copied).
    A text not laid out so (an attribute spread over lines, a missing ``;``) is parsed
    in full. The result is the same: when every line of a text tokenizes completely on
    its own and ends with ``;``, no token crosses a line, so the lines' attributes in
    order are exactly the text's.
    """
    memo: dict[str, list[_Entry] | None] = {}
    return [_by_lines(text, memo) or parse(text) for text in texts]


#: A parsed attribute of a line: its name, the name in lower case, its value, and whether
#: the value must be copied for each ad (lists and nested ads are not shared between jobs).
_Entry = tuple[str, str, "Value", bool]


def _by_lines(text: str, memo: dict[str, list[_Entry] | None]) -> ClassAd | None:
    lines = text.strip().split("\n")
    if len(lines) < 3 or lines[0].strip() != "[" or lines[-1].strip() != "]":
        return None
    ad = ClassAd()
    names = ad._names  # filled here directly: the name each attribute was first given, as set_ci keeps it
    setdefault = names.setdefault
    put = dict.__setitem__  # not ClassAd's: the index of names is kept here
    known = memo.get
    for line in lines[1:-1]:
        entries = known(line, _UNSEEN)
        if entries is _UNSEEN:
            entries = memo[line] = _line_attributes(line)
        if entries is None:
            return None
        for name, lower, value, mutable in entries:
            put(ad, setdefault(lower, name), _copy(value) if mutable else value)
    return ad or None


_UNSEEN: list[_Entry] = []

#: The commonest lines, ``Name = "text";`` and ``Name = {"a", "b"};``, read with one match
#: (the grammar's tokens: a name, a string without raw newlines, a list of such strings).
#: The string is written as an unrolled loop (runs of plain characters between escapes),
#: which a regular expression engine matches several times faster than an alternation per
#: character on the long ``Arguments`` lines.
_NAME = r"([A-Za-z_][A-Za-z0-9_.]*)"
_STRING = r'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"'
_STRING_LINE = re.compile(rf"[ \t]*{_NAME}[ \t]*=[ \t]*({_STRING})[ \t]*;[ \t]*")
_STRINGS_LINE = re.compile(rf"[ \t]*{_NAME}[ \t]*=[ \t]*\{{[ \t]*((?:{_STRING}[ \t]*,[ \t]*)*{_STRING})[ \t]*\}}[ \t]*;[ \t]*")
_STRING_ITEM = re.compile(_STRING)


def _line_attributes(line: str) -> list[_Entry] | None:
    """The attributes of one line that stands on its own (every token complete, ending with ``;``)."""
    m = _STRING_LINE.fullmatch(line)
    if m:
        return [(m[1], m[1].lower(), _unquote(m[2]), False)]
    m = _STRINGS_LINE.fullmatch(line)
    if m:
        return [(m[1], m[1].lower(), [_unquote(item) for item in _STRING_ITEM.findall(m[2])], True)]
    try:
        parser = _Parser(line)
        if not parser.tokens:
            return []  # blank, or a comment
        if parser.tokens[-1][1] != ";":
            return None
        return [(name, name.lower(), value, _mutable(value)) for name, value in parser.classad(bracketed=False).items()]
    except JDLError:
        return None


def _mutable(value: Value) -> bool:
    return isinstance(value, (list, dict))


def _copy(value: Value) -> Value:
    """A parsed value for one more ad (lists and nested ads are not shared between jobs)."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if isinstance(value, ClassAd):
        return ClassAd({k: _copy(v) for k, v in value.items()})
    if isinstance(value, list):
        return [v if type(v) is str else _copy(v) for v in value]
    return value


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format(value: object, indent: str) -> str:
    kind = type(value)
    if kind is str:
        return quote(value)  # type: ignore[arg-type]
    if kind is list and all(type(v) is str for v in value):  # type: ignore[attr-defined]
        return "{" + ", ".join(map(quote, value)) + "}"  # type: ignore[call-overload]
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


def _lines(ad: Mapping[str, object], indent: str) -> list[str]:
    return [f"{indent}{name} = {_format(value, indent)};" for name, value in ad.items() if value is not None]


def dumps(ad: Mapping[str, object], indent: str = "    ", closing_indent: str = "") -> str:
    """Write a ClassAd as JDL text, one attribute per line."""
    return "[\n" + "\n".join(_lines(ad, indent)) + f"\n{closing_indent}]"


def attribute_line(name: str, value: object) -> str:
    """One attribute as :func:`dumps` writes it."""
    return f"    {name} = {_format(value, '    ')};"


def append_lines(text: str, lines: Iterable[str]) -> str | None:
    """``text`` with attribute lines added before its closing ``]``, so that it reads as the ad
    with those attributes set (``set_ci``) in order; None when ``text`` does not end with
    ``;`` and ``]`` (then write the ad with :func:`dumps`)."""
    body = text.rstrip()
    if not body.endswith("]"):
        return None
    head = body[:-1].rstrip()
    if not head.endswith(";"):
        return None
    return head + "\n" + "\n".join(lines) + "\n]"


class Template:
    """Many JDLs that share their first attributes (a project's jobs): the shared lines are
    written once. ``Template(shared).dumps(own)`` is ``dumps({**shared, **own})`` for ``own``
    attributes that ``shared`` does not have."""

    def __init__(self, shared: Mapping[str, object]) -> None:
        self._shared = _lines(shared, "    ")
        self._head = "[\n" + "".join(line + "\n" for line in self._shared)

    def dumps(self, own: Mapping[str, object]) -> str:
        lines = _lines(own, "    ")
        if self._shared and lines:
            return self._head + "\n".join(lines) + "\n]"
        return "[\n" + "\n".join(self._shared + lines) + "\n]"


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

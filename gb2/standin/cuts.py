"""Cut strings and variable expressions: the documented subset of basf2's cut grammar.

Grammar (``and``/``or``/``not``; grouping with ``[ ]`` as in basf2, or ``( )``)::

    cut     := or
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | compare
    compare := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)*     chained: 0.4 < M < 0.6
    sum     := product (('+'|'-') product)*
    product := unary (('*'|'/') unary)*
    unary   := ('-'|'+') unary | atom
    atom    := number | variable | function '(' args ')' | '[' cut ']' | '(' cut ')'

Variables are those of :mod:`gb2.standin.variables` and its aliases; functions: ``abs(x)``,
``sqrt(x)``, ``formula(x)``, ``daughter(i, x)``, ``useCMSFrame(x)``,
``nParticlesInList(list)``, ``passesCut(cut)`` and ``passesEventCut(cut)``. Anything else raises :class:`CutError` naming what
is not supported, so a typo never turns into a silently wrong selection.
A comparison with NaN is false, as in basf2.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from gb2.standin import kinematics as kin
from gb2.standin.datastore import EventStore, Particle
from gb2.standin.variables import ALIASES, EVENT_VARIABLES, NAN, PARTICLE_VARIABLES, known_names


class CutError(ValueError):
    """A cut or variable expression outside the supported subset."""


@dataclass(frozen=True)
class Context:
    store: EventStore
    particle: Particle | None = None


Expr = Callable[[Context], float]

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|\[|\]|,))"
)
_COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
FUNCTIONS = (
    "abs",
    "sqrt",
    "formula",
    "daughter",
    "useCMSFrame",
    "nParticlesInList",
    "passesCut",
    "passesEventCut",
)


@dataclass
class _Token:
    kind: str  # "num" | "name" | "op" | "bad" | "end"
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(text, pos)
        if not match:  # only legal inside function arguments (list names); the parser decides
            stripped = len(text[pos:]) - len(text[pos:].lstrip())
            tokens.append(_Token("bad", text[pos + stripped], pos + stripped))
            pos += stripped + 1
            continue
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _truth(value: float) -> bool:
    return not math.isnan(value) and value != 0.0


def _cms(p: Particle) -> Particle:
    return replace(p, p4=kin.to_cms(p.p4), daughters=tuple(_cms(d) for d in p.daughters))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    # --- token helpers --------------------------------------------------------
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, *texts: str) -> _Token | None:
        if self.tok.kind in ("op", "name") and self.tok.text in texts:
            return self.take()
        return None

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.fail(f"expected {text!r}")

    def fail(self, what: str) -> None:
        found = self.tok.text or "end of string"
        raise CutError(f"in {self.text!r} at position {self.tok.pos}: {what}, found {found!r}")

    # --- grammar ------------------------------------------------------------
    def parse(self) -> Expr:
        expr = self.or_()
        if self.tok.kind != "end":
            self.fail("unexpected text")
        return expr

    def or_(self) -> Expr:
        left = self.and_()
        while self.accept("or"):
            right, prev = self.and_(), left
            left = lambda c, a=prev, b=right: 1.0 if _truth(a(c)) or _truth(b(c)) else 0.0  # noqa: E731
        return left

    def and_(self) -> Expr:
        left = self.not_()
        while self.accept("and"):
            right, prev = self.not_(), left
            left = lambda c, a=prev, b=right: 1.0 if _truth(a(c)) and _truth(b(c)) else 0.0  # noqa: E731
        return left

    def not_(self) -> Expr:
        if self.accept("not"):
            inner = self.not_()
            return lambda c: 0.0 if _truth(inner(c)) else 1.0
        return self.compare()

    def compare(self) -> Expr:
        operands = [self.sum_()]
        ops = []
        while self.tok.kind == "op" and self.tok.text in _COMPARE:
            ops.append(_COMPARE[self.take().text])
            operands.append(self.sum_())
        if not ops:
            return operands[0]

        def chained(c: Context) -> float:
            values = [e(c) for e in operands]
            ok = all(op(values[k], values[k + 1]) for k, op in enumerate(ops))
            return 1.0 if ok else 0.0

        return chained

    def sum_(self) -> Expr:
        left = self.product()
        while tok := self.accept("+", "-"):
            right, prev = self.product(), left
            fn = operator.add if tok.text == "+" else operator.sub
            left = lambda c, a=prev, b=right, f=fn: f(a(c), b(c))  # noqa: E731
        return left

    def product(self) -> Expr:
        left = self.unary()
        while tok := self.accept("*", "/"):
            right, prev = self.unary(), left
            left = (
                (lambda c, a=prev, b=right: a(c) * b(c))
                if tok.text == "*"
                # noqa: E731
                else (lambda c, a=prev, b=right: _divide(a(c), b(c)))
            )
        return left

    def unary(self) -> Expr:
        if self.accept("-"):
            inner = self.unary()
            return lambda c: -inner(c)
        if self.accept("+"):
            return self.unary()
        return self.atom()

    def atom(self) -> Expr:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            value = float(tok.text)
            return lambda c: value
        if self.accept("["):
            inner = self.or_()
            self.expect("]")
            return inner
        if self.accept("("):
            inner = self.or_()
            self.expect(")")
            return inner
        if tok.kind == "name" and tok.text not in ("and", "or", "not"):
            self.take()
            if self.tok.kind == "op" and self.tok.text == "(":
                return self.function(tok)
            return _variable(tok.text, self.text)
        self.fail("expected a number, variable or '['")
        raise AssertionError("unreachable")

    def function(self, name: _Token) -> Expr:
        args = self.raw_args()
        fn = name.text
        if fn in ("abs", "sqrt", "formula"):
            (arg,) = _arity(fn, args, 1)
            inner = compile_expression(arg)
            if fn == "abs":
                return lambda c: abs(inner(c))
            if fn == "sqrt":
                return lambda c: math.sqrt(v) if (v := inner(c)) >= 0 else NAN
            return inner
        if fn == "daughter":
            index_text, var_text = _arity(fn, args, 2)
            try:
                index = int(index_text)
            except ValueError:
                raise CutError(f"daughter() needs an integer index, not {index_text!r}") from None
            inner = compile_expression(var_text)

            def daughter(c: Context) -> float:
                if c.particle is None or not 0 <= index < len(c.particle.daughters):
                    return NAN
                return inner(Context(c.store, c.particle.daughters[index]))

            return daughter
        if fn == "useCMSFrame":
            (arg,) = _arity(fn, args, 1)
            inner = compile_expression(arg)
            return lambda c: inner(Context(c.store, _cms(c.particle))) if c.particle else inner(c)
        if fn in ("passesEventCut", "passesCut"):
            (arg,) = _arity(fn, args, 1)
            inner_cut = compile_cut(arg)
            return lambda c: 1.0 if inner_cut(c) else 0.0
        if fn == "nParticlesInList":
            (list_name,) = _arity(fn, args, 1)
            list_name = list_name.strip()
            return lambda c: float(len(c.store.lists.get(list_name, [])))
        raise CutError(
            f"function {fn!r} in {self.text!r} is not supported by gb2's basf2 stand-in "
            f"(supported: {', '.join(FUNCTIONS)})"
        )

    def raw_args(self) -> list[str]:
        """The argument texts of a call, split at top-level commas (list names stay intact)."""
        open_tok = self.take()
        depth, start = 1, open_tok.pos + 1
        args = []
        pos = start
        while depth:
            if pos >= len(self.text):
                raise CutError(f"unbalanced parentheses in {self.text!r}")
            ch = self.text[pos]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == "," and depth == 1:
                args.append(self.text[start:pos])
                start = pos + 1
            pos += 1
        args.append(self.text[start : pos - 1])
        while self.tok.kind != "end" and self.tok.pos < pos:
            self.take()
        return [a.strip() for a in args]


def _divide(a: float, b: float) -> float:
    return a / b if b != 0 else NAN


def _arity(fn: str, args: list[str], n: int) -> list[str]:
    if len(args) != n or any(not a for a in args):
        raise CutError(f"{fn}() takes {n} argument(s), got {args!r}")
    return args


#: Aliases being expanded (an alias that leads back to itself is an error, not a recursion).
_EXPANDING: list[str] = []


def _variable(name: str, text: str) -> Expr:
    if name in ALIASES:
        if name in _EXPANDING:
            raise CutError(f"alias loop: {' -> '.join([*_EXPANDING, name])}")
        _EXPANDING.append(name)
        try:
            return compile_expression(ALIASES[name])
        finally:
            _EXPANDING.pop()
    if name in PARTICLE_VARIABLES:
        fn = PARTICLE_VARIABLES[name]

        def particle_var(c: Context) -> float:
            if c.particle is None:
                raise CutError(f"variable {name!r} needs a particle but is used in an event cut")
            return fn(c.particle, c.store)

        return particle_var
    if name in EVENT_VARIABLES:
        event_fn = EVENT_VARIABLES[name]
        return lambda c: event_fn(c.store)
    raise CutError(
        f"unknown variable {name!r} in {text!r}: gb2's basf2 stand-in supports "
        + ", ".join(known_names())
        + " and the functions "
        + ", ".join(FUNCTIONS)
    )


def compile_expression(text: str) -> Expr:
    """A variable expression (``'M'``, ``'daughter(0, p)'``, ``'abs(dM)'``) as a callable."""
    return _Parser(text).parse()


def compile_cut(text: str) -> Callable[[Context], bool]:
    """A cut string as a predicate; the empty cut accepts everything."""
    if not text.strip():
        return lambda c: True
    expr = compile_expression(text)
    return lambda c: _truth(expr(c))

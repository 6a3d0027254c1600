"""The small, safe expression language of ``when:`` and ``${{ ... }}``.

Never ``eval``: a hand-written tokenizer and recursive-descent parser over a
fixed grammar, and an evaluator that can only look names up and compare.

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := atom (("==" | "!=") atom)?
    atom    := 'text' | "text" | number | true | false | null | name(.name)* | "(" expr ")"

Values are text, booleans or null; comparisons compare text, so the output
``'true'`` equals the literal ``true`` and ``'3'`` equals ``3``. ``and`` and
``or`` return one of their operands (``inputs.region or 'eu'`` gives a
default). False, null, ``''``, ``'false'`` and ``'0'`` are falsy. A name that
has no value is null (``when:`` on a skipped step's output is simply false);
:func:`render` refuses ``${{ name }}`` alone without a value, since an
argument built from nothing is a bug.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from drkit.runbooks.errors import ActionFailed, RunbookInvalid

Value = str | bool | None

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'[^']*'|"[^"]*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|\(|\))
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}
_FALSY_TEXT = {"", "false", "0"}


@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Ref:
    path: str


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class Logic:
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare:
    op: str  # "==" | "!="
    left: Expr
    right: Expr


Expr = Literal | Ref | Not | Logic | Compare


def parse(text: str) -> Expr:
    """Parse ``text``; raise RunbookInvalid saying what is wrong and where."""
    parser = _Parser(text, list(_tokens(text)))
    expr = parser.expression()
    parser.expect_end()
    return expr


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            return
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise RunbookInvalid(
                f"cannot read the expression {text!r} at character {pos + 1}",
                hint="use names like steps.ID.outputs.KEY, 'text', numbers, ==, !=, and, or, not",
            )
        kind = match.lastgroup or ""
        yield kind, match.group(kind)
        pos = match.end()


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, str]]) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise self.error("the expression ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def error(self, problem: str) -> RunbookInvalid:
        return RunbookInvalid(f"{problem} in {self.text!r}", hint=_GRAMMAR_HINT)

    def expect_end(self) -> None:
        if self.pos != len(self.tokens):
            raise self.error(f"unexpected {self.tokens[self.pos][1]!r}")

    def expression(self) -> Expr:
        return self.logic("or", self.logic_and)

    def logic_and(self) -> Expr:
        return self.logic("and", self.negation)

    def logic(self, op: str, operand: Callable[[], Expr]) -> Expr:
        left = operand()
        while self.peek() == op:
            self.take()
            left = Logic(op, left, operand())
        return left

    def negation(self) -> Expr:
        if self.peek() == "not":
            self.take()
            return Not(self.negation())
        return self.compare()

    def compare(self) -> Expr:
        left = self.atom()
        if self.peek() in ("==", "!="):
            op = self.take()[1]
            return Compare(op, left, self.atom())
        return left

    def atom(self) -> Expr:
        kind, token = self.take()
        if token == "(" and kind == "op":
            inner = self.expression()
            if self.peek() != ")":
                raise self.error("a '(' is not closed")
            self.take()
            return inner
        return self.leaf(kind, token)

    def leaf(self, kind: str, token: str) -> Expr:
        if kind == "string":
            return Literal(token[1:-1])
        if kind == "number":
            return Literal(token)
        if kind == "name" and token in ("true", "false"):
            return Literal(token == "true")
        if kind == "name" and token == "null":
            return Literal(None)
        if kind == "name" and token not in _KEYWORDS:
            return Ref(token)
        raise self.error(f"unexpected {token!r}")


_GRAMMAR_HINT = (
    "an expression compares names and literals: "
    "steps.detect.outputs.down == 'true' and not inputs.dry == 'yes'"
)


def evaluate(expr: Expr, variables: Mapping[str, str]) -> Value:
    """The value of ``expr``; names not in ``variables`` are null."""
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Ref):
        return variables.get(expr.path)
    if isinstance(expr, Not):
        return not truthy(evaluate(expr.operand, variables))
    if isinstance(expr, Logic):
        left = evaluate(expr.left, variables)
        if truthy(left) == (expr.op == "or"):
            return left
        return evaluate(expr.right, variables)
    equal = text(evaluate(expr.left, variables)) == text(evaluate(expr.right, variables))
    return equal if expr.op == "==" else not equal


def truthy(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    return value is not None and value.strip().lower() not in _FALSY_TEXT


def text(value: Value) -> str | None:
    """The text form of a value: booleans as ``true``/``false``; null stays null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def holds(expr: Expr, variables: Mapping[str, str]) -> bool:
    """A ``when:`` condition: true or false."""
    return truthy(evaluate(expr, variables))


def render(expr: Expr, variables: Mapping[str, str]) -> str:
    """The text a ``${{ expr }}`` stands for; a name without a value is an error."""
    missing = sorted(path for path in refs(expr) if path not in variables)
    if missing and isinstance(expr, Ref):
        raise ActionFailed(
            f"${{{{ {missing[0]} }}}} has no value",
            hint="check the name; outputs exist only after their step succeeded "
            f"(known: {', '.join(sorted(variables)) or 'none'})",
        )
    return text(evaluate(expr, variables)) or ""


def refs(expr: Expr) -> set[str]:
    """Every name the expression reads."""
    if isinstance(expr, Ref):
        return {expr.path}
    if isinstance(expr, Literal):
        return set()
    if isinstance(expr, Not):
        return refs(expr.operand)
    return refs(expr.left) | refs(expr.right)

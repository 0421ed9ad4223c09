"""Safe arithmetic: a real parser for a small expression language, never `eval`.

The expression is parsed with Python's `ast` module and only a whitelisted subset is evaluated:
numbers, + - * / // % **, unary signs, parentheses, a few functions (sqrt, abs, round, min, max,
floor, ceil, log, exp, sin, cos, tan) and the constants pi and e. Anything else (names,
attributes, calls of other functions, strings, comprehensions...) is refused with a message that
says what is allowed. Sizes are bounded so that `9**9**9` cannot hang the process.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

from gogrid.tools.base import tool

MAX_EXPRESSION_CHARS = 500
MAX_NODES = 200
MAX_EXPONENT = 10_000
MAX_RESULT_DIGITS = 4_300  # Python's own int-to-str limit

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


class ExpressionError(ValueError):
    """An expression outside the supported language, or one that cannot be computed."""


def evaluate(expression: str) -> Number:
    """Evaluate `expression` in the safe subset; raise ExpressionError with a clear message."""
    text = expression.strip()
    if not text:
        raise ExpressionError("empty expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression too long ({len(text)} characters, limit {MAX_EXPRESSION_CHARS})")
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        raise ExpressionError(f"cannot parse {text!r}{col}: {e.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"expression too complex (more than {MAX_NODES} parts)")
    try:
        result = _eval(tree.body)
        if isinstance(result, float) and not math.isfinite(result):
            raise ExpressionError("the result is not a finite number")
        return result
    except ZeroDivisionError:
        raise ExpressionError("division by zero") from None
    except OverflowError:
        raise ExpressionError("result too large") from None
    except (ValueError, TypeError) as e:
        if isinstance(e, ExpressionError):
            raise
        raise ExpressionError(f"math error: {e}") from None


def _eval(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError(f"only numbers are allowed, not {node.value!r}")
        return node.value
    if isinstance(node, ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ExpressionError(f"operator {type(node.op).__name__} is not supported; use + - * / // % **")
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        result = op(left, right)
        if isinstance(result, complex):
            raise ExpressionError("the result is a complex number")
        if isinstance(result, int) and result.bit_length() > MAX_RESULT_DIGITS * 3.33:
            raise ExpressionError("result too large")
        return result
    if isinstance(node, ast.UnaryOp):
        uop = _UNARY.get(type(node.op))
        if uop is None:
            raise ExpressionError(f"operator {type(node.op).__name__} is not supported")
        return uop(_eval(node.operand))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ExpressionError(f"unknown name {node.id!r}; constants: {', '.join(_CONSTANTS)}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else "this call"
            raise ExpressionError(f"function {name!r} is not supported; functions: {', '.join(_FUNCTIONS)}")
        if node.keywords:
            raise ExpressionError("keyword arguments are not supported")
        args = [_eval(a) for a in node.args]
        try:
            return _FUNCTIONS[node.func.id](*args)
        except TypeError:
            raise ExpressionError(f"wrong number of arguments for {node.func.id}()") from None
    raise ExpressionError(f"{type(node).__name__} is not allowed in an arithmetic expression")


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > MAX_EXPONENT and abs(base) > 1:
        raise ExpressionError(f"exponent too large (limit {MAX_EXPONENT})")
    exact = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and base not in (0, 1, -1)
    if exact and exponent * math.log2(abs(base)) > MAX_RESULT_DIGITS * 3.33:
        raise ExpressionError("result too large")


@tool
def calculate(expression: str) -> Number:
    """Evaluate an arithmetic expression exactly (integers stay exact) and return the number.

    Args:
        expression: e.g. "(3 + 4) * 2 ** 10 / 7" or "sqrt(2) * pi"; supports + - * / // % ** (or ^),
            parentheses, sqrt abs round min max floor ceil log exp sin cos tan, and pi, e, tau.
    """
    return evaluate(expression)

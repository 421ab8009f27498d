"""``variables`` (stand-in): the variable manager, ``from variables import variables as vm``.

Only what steering files and b2luigi's pickled paths use: aliases (``addAlias``,
``getAliasNames``, ``clearAliases``, ``printAliases``) and ``getVariable(name).name``.
The variables themselves are the stand-in's (``python -m gb2.standin -m`` lists modules;
:mod:`gb2.standin.variables` lists variables).
"""

from __future__ import annotations

from dataclasses import dataclass

from gb2.standin import cuts as _cuts
from gb2.standin import variables as _variables
from gb2.standin.b2log import B2ERROR as _B2ERROR
from gb2.standin.b2log import B2INFO as _B2INFO

__all__ = ["variables"]


@dataclass(frozen=True)
class Var:
    """What ``getVariable`` returns: for an alias, the variable (expression) it stands for."""

    name: str
    description: str = ""


class _VariableManager:
    """basf2's ``Variable::Manager`` as far as the stand-in supports it."""

    def addAlias(self, alias: str, variable: str) -> bool:  # noqa: N802 - basf2's names
        return _variables.add_alias(str(alias), str(variable))

    def getAliasNames(self) -> list[str]:  # noqa: N802
        return list(_variables.ALIASES)

    def clearAliases(self) -> None:  # noqa: N802
        _variables.ALIASES.clear()

    def printAliases(self) -> None:  # noqa: N802
        for alias, variable in sorted(_variables.ALIASES.items()):
            _B2INFO(f"{alias} : {variable}")

    def getVariable(self, name: str) -> Var | None:  # noqa: N802
        """The variable ``name`` names (following aliases); None, with an ERROR, if unknown."""
        seen = []
        while name in _variables.ALIASES and name not in seen:
            seen.append(name)
            name = _variables.ALIASES[name]
        try:
            _cuts.compile_expression(name)
        except _cuts.CutError as exc:
            _B2ERROR(f"Variable {name!r} is not registered: {exc}")
            return None
        return Var(name)

    def getVariables(self) -> list[Var]:  # noqa: N802
        return [Var(n) for n in sorted(_variables.PARTICLE_VARIABLES) + sorted(_variables.EVENT_VARIABLES)]


variables = _VariableManager()

"""A path as plain data and back: what ``basf2.pickle_path`` pickles.

b2luigi's default gbasf2 route pickles the path a task builds locally and runs it in
the job with ``basf2.pickle_path.get_path_from_file``. The data holds only built-in
types (module type, name, the parameters set in the steering file, log level,
conditions with their paths, independent paths), so a pickle file never names a
stand-in class. As in basf2, a Python module defined in a steering file cannot be
serialized: it is refused with basf2's reason.
"""

from __future__ import annotations

from typing import Any

from gb2.standin.b2log import LogLevel
from gb2.standin.framework import AfterConditionPath, Module, Path, register_module

#: The type of an independent path (``Path.add_independent_path``), not creatable by name.
INDEPENDENT_PATH = "SubEvent"


def serialize_module(module: Module) -> dict[str, Any]:
    from gb2.standin.modules import registry
    from gb2.standin.modules.flow import IndependentPath

    data: dict[str, Any] = {"type": module.type(), "name": module.name(),
                            "log_level": int(module._b2_log_level)}  # fmt: skip
    if isinstance(module, IndependentPath):
        data["independent_path"] = serialize_path(module.sub_paths()[0])
        data["ds_id"] = module.ds_id
        return data
    if registry().get(module.type()) is not type(module):
        raise RuntimeError(
            f"The module '{module.name()}' is a Python module: it cannot be serialized "
            "(b2luigi: use gbasf2_custom_steering_file for paths with Python modules)"
        )
    data["parameters"] = {name: module.get(name) for name in sorted(module._b2_set)}
    data["conditions"] = [
        {"expression": c.expression, "path": serialize_path(c.path), "after": c.after.value}
        for c in module.conditions()
    ]
    return data


def serialize_path(path: Path) -> dict[str, Any]:
    return {"modules": [serialize_module(m) for m in path.modules()]}


def deserialize_module(data: dict[str, Any]) -> Module:
    from gb2.standin.modules.flow import IndependentPath

    if data["type"] == INDEPENDENT_PATH and "independent_path" in data:
        module: Module = IndependentPath(deserialize_path(data["independent_path"]), data.get("ds_id", ""))
    else:
        module = register_module(data["type"], **data.get("parameters", {}))
        for condition in data.get("conditions", []):
            module.if_value(condition["expression"], deserialize_path(condition["path"]),
                            AfterConditionPath(condition["after"]))  # fmt: skip
    module.set_name(data["name"])
    module.set_log_level(LogLevel(data.get("log_level", LogLevel.default)))
    return module


def deserialize_path(data: dict[str, Any]) -> Path:
    path = Path()
    for module_data in data["modules"]:
        path.add_module(deserialize_module(module_data))
    return path

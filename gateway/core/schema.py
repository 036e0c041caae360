"""The JSON Schema of the config file, the installed plugins' component configs included."""

from __future__ import annotations

from typing import Any

from gateway.core.config import GatewayConfig
from gateway.plugins import Plugins

_TYPED_SECTIONS = {"services": "service", "authenticators": "authenticator", "actions": "action"}


def _component_schema(name: str, cls: type[Any], defs: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = cls.Config.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    schema.setdefault("properties", {})
    schema["properties"] = {
        "type": {"const": name, "description": cls.summary or cls.__doc__ or name},
        **schema["properties"],
    }
    schema["required"] = ["type", *schema.get("required", [])]
    schema["title"] = f"{name}"
    return schema


def config_schema(plugins: Plugins) -> dict[str, Any]:
    """JSON Schema (2020-12) of a cellgate config file with the plugins loaded now."""
    reg = plugins.registry
    schema = GatewayConfig.model_json_schema(ref_template="#/$defs/{model}")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cellgate configuration"
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    props = schema["properties"]
    for section, kind in _TYPED_SECTIONS.items():
        variants = [_component_schema(n, c, defs) for n, c in reg.items(kind).items()]
        nothing: dict[str, Any] = {"not": {}}  # no plugin installed for this section
        props[section]["items"] = {"oneOf": variants} if variants else nothing
    hist = [_component_schema(n, c, defs) for n, c in reg.items("history").items()]
    props["history"] = {
        "anyOf": [*hist, {"type": "null"}],
        "description": props["history"].get("description"),
    }
    options = []
    for scheme, cls in reg.items("transport").items():
        s = cls.Config.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(s.pop("$defs", {}))
        s["title"] = f"options of {scheme}:// lines"
        options.append(s)
    line_def = defs.get("LineConfig")
    if line_def and options:
        line_def["properties"]["options"] = {
            "anyOf": options,
            "description": line_def["properties"]["options"].get("description"),
        }
    models = reg.names("monitor")
    units_def = defs.get("UnitsConfig")
    if units_def and models:
        units_def["properties"]["model"]["enum"] = models
    return schema

"""Breaking-change detection between two JSON Schemas of one contract.

The rule (docs/architecture.md, "Event backbone"): within a major version only optional fields
are added. So, after inlining $refs and ignoring documentation keywords, the new schema must
equal the old one except for new properties that are not required. Anything else — a removed
or renamed field, a type change, a field made required or optional, an enum changed — is
breaking and belongs on a new `v<N+1>` topic.
"""

from typing import Any

from shared.contracts.catalog import Topic
from shared.contracts.envelope import Envelope

DOC_KEYWORDS = frozenset({"title", "description", "examples", "$comment"})


def contract_schemas(topic: Topic) -> dict[str, dict[str, Any]]:
    """JSON Schema of the full envelope of every event type of a topic."""
    return {
        event_type: Envelope[payload].model_json_schema()  # type: ignore[valid-type]
        for event_type, payload in sorted(topic.events.items())
    }



def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in seen:  # recursive model: compare by name
                return {"$recursive": name}
            return _inline(defs[name], defs, seen + (name,))
        return {k: _inline(v, defs, seen) for k, v in node.items() if k not in DOC_KEYWORDS and k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs, seen) for v in node]
    return node


def normalise(schema: dict[str, Any]) -> dict[str, Any]:
    return _inline(schema, schema.get("$defs", {}))


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable breaking changes from `old` to `new` (empty when compatible)."""
    problems: list[str] = []
    _compare(normalise(old), normalise(new), "$", problems)
    return problems


def _compare(old: Any, new: Any, path: str, problems: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        old_props, new_props = old.get("properties"), new.get("properties")
        if isinstance(old_props, dict) and isinstance(new_props, dict):
            for name, schema in old_props.items():
                if name not in new_props:
                    problems.append(f"{path}.{name}: field removed")
                else:
                    _compare(schema, new_props[name], f"{path}.{name}", problems)
            old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
            for name in sorted(new_required - old_required):
                problems.append(f"{path}.{name}: " + ("new required field" if name not in old_props else "became required"))
            for name in sorted(old_required - new_required):
                problems.append(f"{path}.{name}: no longer required")
        rest_old = {k: v for k, v in old.items() if k not in {"properties", "required"}}
        rest_new = {k: v for k, v in new.items() if k not in {"properties", "required"}}
        for key in sorted(set(rest_old) | set(rest_new)):
            if key not in rest_old or key not in rest_new:
                problems.append(f"{path}: keyword '{key}' {'added' if key in rest_new else 'removed'}")
            else:
                _compare(rest_old[key], rest_new[key], f"{path}/{key}", problems)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            _compare(a, b, f"{path}[{i}]", problems)
        return
    if old != new:
        problems.append(f"{path}: changed from {old!r} to {new!r}")

"""Read a PFA document (JSON text/bytes, YAML text, a path, a file object or a dict) into plain data.

The result is the JSON object model (dict/list/str/int/float/bool/None). Errors name the line and
column (JSON/YAML syntax) or the JSON path of the offending node.
"""
from __future__ import annotations

import json
import os
from typing import Any

from .errors import PFASyntaxError


def _is_path(text: str) -> bool:
    head = text.lstrip()[:1]
    return bool(text) and head not in ("{", "[", '"') and "\n" not in text and len(text) < 4096 \
        and os.path.exists(text)


def _loader(yaml: Any) -> type:
    """PyYAML's safe loader without aliases: an alias repeats a whole subtree, so a kilobyte of
    nested aliases ("billion laughs") expands to gigabytes. JSON has no aliases, so a PFA
    document never needs them; the first one is refused with its line and column."""
    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"YAML alias *{event.anchor} refused: a PFA document may not "
                    "use anchors and aliases", event.start_mark)
            return super().compose_node(parent, index)
    return NoAliasLoader


def read_document(source: Any) -> dict:
    """Return the document as a dict; raise PFASyntaxError if it is not a JSON/YAML object."""
    if isinstance(source, dict):
        return source
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _is_path(source)):
        with open(os.fspath(source), "rb") as fh:
            source = fh.read()
    elif hasattr(source, "read"):
        source = source.read()
    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PFASyntaxError(f"document is not UTF-8 text: {exc}") from None
    if not isinstance(source, str):
        raise TypeError(f"cannot read a PFA document from {type(source).__name__}")
    text = source
    if text.lstrip()[:1] in ("{", "["):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PFASyntaxError(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") \
                from None
        except RecursionError:
            raise PFASyntaxError("invalid JSON: nested too deeply") from None
    else:
        try:
            import yaml
        except ImportError:  # pragma: no cover - pyyaml is an optional extra
            raise PFASyntaxError("document is not JSON and PyYAML is not installed for YAML") from None
        try:
            doc = yaml.load(text, Loader=_loader(yaml))
        except yaml.YAMLError as exc:
            raise PFASyntaxError(f"invalid YAML: {exc}") from None
        except RecursionError:
            raise PFASyntaxError("invalid YAML: nested too deeply") from None
    if not isinstance(doc, dict):
        raise PFASyntaxError(f"a PFA document must be a JSON object, not {type(doc).__name__}")
    return doc

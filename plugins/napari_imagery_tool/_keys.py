"""Keyboard shortcuts of the annotation widget: defaults, the user's overrides, runtime binding."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import yaml

from napari_imagery_tool._notify import notify

__all__ = ["KEYS_ENV", "bind_session_keys", "load_keymap", "user_keymap_path"]

KEYS_ENV = "IMAGERY_TOOL_KEYS"


def user_keymap_path() -> Path:
    """Return where the user's key overrides are read from (it need not exist)."""
    if os.environ.get(KEYS_ENV):
        return Path(os.environ[KEYS_ENV])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "imagery-tool" / "napari-keys.yaml"


def load_keymap(path: str | Path | None = None) -> tuple[dict[str, str], list[str]]:
    """Return ``(keys, classes)``: action -> key, and the classes of number keys 1-9.

    The defaults (``keybindings.yaml`` of the plugin) are updated with the user's file; an
    unreadable user file is ignored with a warning rather than breaking the widget.
    """
    try:
        text = resources.files("napari_imagery_tool").joinpath("keybindings.yaml").read_text()
        config = yaml.safe_load(text)
    except (OSError, yaml.YAMLError):  # pragma: no cover - package data missing
        config = {"keys": {}, "classes": []}
    keys, classes = dict(config["keys"]), list(config["classes"])
    user = Path(path) if path else user_keymap_path()
    if user.is_file():
        try:
            extra = yaml.safe_load(user.read_text()) or {}
            keys.update({str(k): str(v or "") for k, v in (extra.get("keys") or {}).items()})
            if extra.get("classes"):
                classes = [str(c) for c in extra["classes"]][:9]
        except (OSError, yaml.YAMLError, AttributeError) as exc:
            notify(f"{user}: key bindings not read ({exc}); using the defaults", "warning")
    return keys, classes


def bind_session_keys(session, *, path=None) -> dict[str, str]:
    """Bind the shortcuts on the session's boxes layer (napari ignores manifest keybindings).

    Returns
    -------
    dict
        Action -> key actually bound, for the help text.
    """
    keys, classes = load_keymap(path)
    layer = session.layer
    actions = {
        "draw_box": lambda _l: setattr(layer, "mode", "add_rectangle"),
        "click_to_box": lambda _l: _toggle_click(session),
        "select": lambda _l: setattr(layer, "mode", "select"),
        "rotate_cw": lambda _l: session.rotate(5),
        "rotate_ccw": lambda _l: session.rotate(-5),
        "rotate_cw_90": lambda _l: session.rotate(90),
        "undo": lambda _l: session.undo(),
        "redo": lambda _l: session.redo(),
        "accept": lambda _l: session.review("accepted"),
        "reject": lambda _l: session.review("rejected"),
        "next_unreviewed": lambda _l: session.step_unreviewed(1),
        "previous_unreviewed": lambda _l: session.step_unreviewed(-1),
        "toggle_nose_open": lambda _l: session.toggle_attribute("nose_open"),
        "delete": lambda _l: layer.remove_selected(),
    }
    bound = {}
    for action, func in actions.items():
        key = keys.get(action, "")
        if key:
            layer.bind_key(key, func, overwrite=True)
            bound[action] = key
    for number, name in enumerate(classes[:9], start=1):
        if session.schema.get(name) is None:
            continue
        layer.bind_key(str(number), _class_setter(session, name), overwrite=True)
        bound[f"class {name}"] = str(number)
    return bound


def _toggle_click(session) -> None:
    widget = getattr(session, "widget", None)
    if widget is not None and hasattr(widget, "toggle_click_mode"):
        widget.toggle_click_mode()


def _class_setter(session, name: str):
    def set_class(_layer):
        session.set_label(name)
        widget = getattr(session, "widget", None)
        if widget is not None:
            widget.sync_from_session()

    return set_class

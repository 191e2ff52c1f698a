"""Qt dock widgets of the plugin (the only place, with _qt, where Qt is imported)."""

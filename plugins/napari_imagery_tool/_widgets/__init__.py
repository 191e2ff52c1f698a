"""Qt dock widgets of the plugin: the only place where Qt is imported, always through qtpy."""

"""Built-in tasks: name -> "module:Class" (imported only when used)."""

TASKS: dict[str, str] = {}

"""Built-in methods: name -> "module:Class" (imported only when used)."""

METHODS: dict[str, str] = {}

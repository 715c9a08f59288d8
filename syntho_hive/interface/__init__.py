"""User-facing interfaces: configuration re-exports and the ``synthohive`` command line."""

"""The ``lla`` command: parses arguments, configures logging, calls the library."""

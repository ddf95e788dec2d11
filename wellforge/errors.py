"""Error types. Every user error is a ``WellforgeError``: the CLI prints its one-line
message and exits with its ``exit_code``, never with a traceback."""


class WellforgeError(Exception):
    """A user error: bad input, config or parameters (exit 2)."""

    exit_code = 2


class SchemaError(WellforgeError):
    """Data or declarations that break the Well layout (writer misuse)."""


class ConfigError(WellforgeError):
    """A scenario config, CLI value or parameter that cannot be used."""


class DiskFull(WellforgeError):
    """The output filesystem ran out of space (exit 4); finished files are kept."""

    exit_code = 4


class InputRefused(WellforgeError):
    """An input file that cannot or will not be opened (exit 3)."""

    exit_code = 3

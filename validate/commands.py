"""CLI: ``wellforge validate`` and ``wellforge rules`` (being built)."""

HELP = {"validate": "validate Well files or dataset directories", "rules": "list validator rules"}


def add_validate_arguments(p):
    p.add_argument("paths", nargs="+")


def run_validate(args) -> int:
    raise NotImplementedError


def add_rules_arguments(p):
    p.add_argument("code", nargs="?")


def run_rules(args) -> int:
    raise NotImplementedError

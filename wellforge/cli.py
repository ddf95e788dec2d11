"""``wellforge`` command line.

Each subcommand lives in its own module exposing ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; this file only dispatches. User errors (``WellforgeError``) print one
line and exit with their code (2 usage/config, 3 refused input); never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from wellforge import __version__
from wellforge.errors import WellforgeError

#: subcommand -> module implementing it
COMMANDS = {
    "systems": "wellforge.generators.commands",
    "generate": "wellforge.generators.commands",
    "pack": "wellforge.generators.commands",
    "plan": "wellforge.generators.commands",
    "status": "wellforge.generators.commands",
    "clean": "wellforge.generators.commands",
    "new-system": "wellforge.generators.scaffold",
    "convert": "wellforge.generators.convert",
    "finalize": "wellforge.schema.commands",
    "schema": "wellforge.schema.commands",
    "info": "wellforge.schema.commands",
    "plot": "wellforge.schema.plot",
    "validate": "wellforge.validate.commands",
    "rules": "wellforge.validate.commands",
    "check-card": "wellforge.validate.commands",
    "merge-reports": "wellforge.validate.commands",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        sys.stderr.write(f"wellforge: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _add_verbosity(p: argparse.ArgumentParser, default) -> None:
    p.add_argument("-v", "--verbose", action="store_true", default=default,
                   help="debug logging, and Dedalus's own INFO lines")
    p.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="warnings and results only (no progress)")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; with ``only``, the others are registered by name
    and their modules not imported (a run of one command imports that command's module:
    ``wellforge validate`` does not pay for the generators' imports)."""
    p = _Parser(prog="wellforge", description="Generate and validate datasets in The Well's "
                "HDF5 layout.")
    p.add_argument("--version", action="version", version=f"wellforge {__version__}")
    _add_verbosity(p, default=False)
    # the same flags after the command (``wellforge generate ... -q``)
    common = argparse.ArgumentParser(add_help=False)
    _add_verbosity(common, default=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, modname in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, add_help=False)
            continue
        mod = importlib.import_module(modname)
        sp = sub.add_parser(name, help=mod.HELP[name], description=mod.HELP[name],
                            parents=[common])
        getattr(mod, f"add_{name.replace('-', '_')}_arguments")(sp)
        sp.set_defaults(_run=getattr(mod, f"run_{name.replace('-', '_')}"))
    return p


def _world_rank() -> int:
    mpi = sys.modules.get("mpi4py.MPI")  # only when a command already uses MPI
    return mpi.COMM_WORLD.rank if mpi is not None else 0


def _setup_logging(verbose: bool, quiet: bool = False) -> None:
    """Our own handler on the 'wellforge' logger; Dedalus's root-logger lines follow its
    level (``generators.engine``: INFO only with -v)."""
    log = logging.getLogger("wellforge")
    if not log.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s :: %(message)s"))
        log.addHandler(h)
    log.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    # Solver runs: one thread per MPI rank (Dedalus performance advice).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("NUMEXPR_MAX_THREADS", "1")
    words = sys.argv[1:] if argv is None else argv
    command = next((w for w in words if not w.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _setup_logging(args.verbose, args.quiet)
    try:
        return int(args._run(args) or 0)
    except WellforgeError as e:
        if _world_rank() == 0:  # under mpirun every rank raises the same error: say it once
            sys.stderr.write(f"wellforge {args.command}: error: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("wellforge: interrupted\n")
        return 130
    except BrokenPipeError:  # output piped into head/less that stopped reading: no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())

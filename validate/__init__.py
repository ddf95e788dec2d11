"""wellforge.validate: checks any file or dataset in the Well's HDF5 layout.

Modules, one per concept: ``findings`` (Finding, fingerprint), ``registry`` (``@check``),
``context`` (what checks see), ``safety`` (L0), ``structure`` (L1), ``stream`` (the shared
streaming pass and its reducers), ``sanity`` (L3), ``dataset_checks`` (L5), ``reports``,
``config``, ``changes`` (``--changed-only``), ``runner`` and ``commands`` (CLI).

API::

    from wellforge.validate.context import Options
    from wellforge.validate.runner import validate
    report = validate(["datasets/shear_flow"], Options(level=5))
    report.exit_code(Options().fail_on), report.findings

Nothing heavy is imported here: the CLI imports ``commands`` at startup.
"""

"""wellforge.validate: checks any file or dataset in the Well's HDF5 layout.

Modules in layers; imports go downward only (``tests/test_architecture.py``):

- the floor, data types and helpers: ``findings`` (Issue, Finding, fingerprint),
  ``attrs`` (tolerant attribute reading), ``safe_open`` (preflight, open, the walk and its
  inventory), ``robust`` (median, robust outliers, frame sets), ``lanes`` (float32 lane
  sums), ``unit_table`` and ``unit_algebra``, ``quadrature`` (on ``schema.grids``),
  ``cards`` (which card describes a file; linting a card), ``physics`` (the physics plan
  of a file), ``context`` (options, limits, the file and dataset a check sees, with what
  they derive once as cached properties), ``summaries`` (a file's result as JSON and
  back), ``slices`` (``--slice I/N``: the cut by size), ``remote`` (files behind a URL:
  HTTP range reads, fsspec), ``pool`` (the worker processes: crash, timeout and memory
  isolation per file);
- the machinery: ``registry`` (``@check``, Rule, run_check) and ``stream`` (the shared
  streaming pass and its ``@reducer``\\s);
- the checks: ``checks/`` (one module per level or concern, registered by importing the
  package: ``checks.load_all()``), which never import each other;
- the top: ``runner`` (a run: discover, validate each file in a worker process, then
  each dataset), ``cache`` (the result cache), ``config`` (config file + command line),
  ``reports`` (text, JSON, JUnit, SARIF, GitHub), ``merge`` (``merge-reports``: the slices
  of a run joined, the dataset checks from their summaries), ``changes``
  (``--changed-only``) and ``commands`` (CLI).

API::

    from wellforge.validate.context import Options
    from wellforge.validate.runner import validate
    report = validate(["datasets/shear_flow"], Options(level=5))
    report.exit_code(Options().fail_on), report.findings

Nothing heavy is imported here: the CLI imports ``commands`` at startup.
"""

"""YAML from files the validator is asked to judge (stats.yaml, <name>.yaml, a card):
parsed with ``yaml.safe_load``, then refused when it nests deeper than a bound or
contains itself (an alias to an enclosing anchor), so that no check walking the value
recurses without end (a 5,000-deep value exhausts Python's stack in the parser itself).
"""

from __future__ import annotations

MAX_DEPTH = 32  # stats.yaml and <name>.yaml nest three levels deep, a card five


def load(text_or_stream):
    """The YAML document; ValueError (with the reason) when it does not parse, nests
    deeper than ``MAX_DEPTH`` or contains itself."""
    import yaml  # only where YAML is read: not imported for plain files

    try:
        doc = yaml.safe_load(text_or_stream)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1} " if mark else ""
        raise ValueError(f"{line}malformed YAML ({getattr(e, 'problem', None) or e})") \
            from None
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    check_shape(doc)
    return doc


def check_shape(doc) -> None:
    """ValueError when ``doc`` contains itself or nests deeper than ``MAX_DEPTH``
    (walked without recursion)."""
    stack = [(doc, 0, frozenset())]
    while stack:
        v, depth, above = stack.pop()
        if not isinstance(v, (dict, list)):
            continue
        if id(v) in above:
            raise ValueError("a value contains itself (an alias to an enclosing anchor)")
        if depth >= MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        inner = above | {id(v)}
        items = [*v.keys(), *v.values()] if isinstance(v, dict) else v
        stack.extend((x, depth + 1, inner) for x in items)

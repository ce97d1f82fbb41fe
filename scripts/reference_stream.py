"""The stream and cache settings both reference scripts read (llamacpp-reference-nll.py, numpy-reference-nll.py):
METHOD.md §1's document order and §2's cache configs, parsed the way `streamppl run` parses them."""
import os
import re
import sys


def parse_cache(text, prog, by_attention=False):
    """(sinks, window) for x+y, None for dense; with by_attention also ("h2o", heavy, recent) for h2o:H+R and
    ("tova", capacity) for tova:N (METHOD.md §2b)."""
    if text == "dense":
        return None
    m = re.fullmatch(r"([0-9]+)\+([0-9]+)", text)
    if m and int(m.group(2)) >= 1:
        return int(m.group(1)), int(m.group(2))
    if by_attention:
        m = re.fullmatch(r"h2o:([0-9]+)\+([0-9]+)", text)
        if m and int(m.group(1)) + int(m.group(2)) >= 1:
            return "h2o", int(m.group(1)), int(m.group(2))
        m = re.fullmatch(r"tova:([0-9]+)", text)
        if m and int(m.group(1)) >= 1:
            return "tova", int(m.group(1))
        sys.exit(f"{prog}: --cache {text!r}: expected dense, x+y (x >= 0, y >= 1), h2o:H+R (H + R >= 1) or tova:N (N >= 1)")
    sys.exit(f"{prog}: --cache {text!r}: expected dense or x+y (x >= 0, y >= 1)")


def documents(path, prog):
    """Paths of the documents of --data, in stream order (METHOD.md §1)."""
    if os.path.isdir(path):
        names = sorted((n for n in os.listdir(path) if n.endswith(".txt") or n.endswith(".txt.gz")),
                       key=lambda n: n.encode())
        if not names:
            sys.exit(f"{prog}: {path}: no *.txt or *.txt.gz documents")
        return [os.path.join(path, n) for n in names]
    return [path]

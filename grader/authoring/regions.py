"""Where the learner's part of a reference solution is: the regions between `# BEGIN SOLUTION` and
`# END SOLUTION`, each inside a function. `grade build` stubs them; the course manifest lists their functions;
`grade release` scans for their lines; `grade selfcheck --mutate` mutates only them."""

import re
from collections.abc import Iterator

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
_DEF = re.compile(r"^\s*def (\w+)\(")


def solution_regions(source: str) -> Iterator[tuple[int, int, str]]:
    """Yield (first_line, last_line, function_name) for each solution region, 0-based inclusive."""
    lines = source.splitlines()
    func, start = None, None
    for i, line in enumerate(lines):
        match = _DEF.match(line)
        if match:
            func = match.group(1)
        if line.strip() == BEGIN:
            start = i
        elif line.strip() == END:
            if start is None or func is None:
                raise ValueError(f"line {i + 1}: {END} without a {BEGIN} inside a function before it")
            yield start, i, func
            start = None
    if start is not None:
        raise ValueError(f"line {start + 1}: {BEGIN} is never closed by {END}")

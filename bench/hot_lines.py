#!/usr/bin/env python3
"""The code footprint of a request: how many 64-byte cache lines of machine code a request
runs through, counted from a callgrind profile taken with --dump-instr=yes.

After each wake-up the kernel's own work (the socket, the scheduler) has pushed much of a
generator's code out of the core's first-level caches, so every distinct line a request
runs through is fetched again: the fewer lines, the less a request costs beyond its
instructions (docs/PERFORMANCE.md, "The engine against a bare tokio client").

    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=OUT \\
        target/release/barrage hit http://127.0.0.1:8000/items/foo -c 50 -n 8000 --workers 1 --only-summary
    bench/hot_lines.py OUT 8000          # 8000: the requests the run made

Counts the instructions run at least REQUESTS / 2 times (in every other request or more,
on average), then the distinct lines they lie on. Not REQUESTS itself: much of a request's
code runs exactly once a request, a few times more or less over a run (the last requests in
flight, the first ones' connects), so a threshold of exactly one a request counted the same
binary's footprint as 538 lines in one run and 606 in the next; half of it read 623 and 627.
Standard library only.
"""

import collections
import sys


def address(token, previous):
    """A callgrind position: absolute (0x...), relative (+N, -N) or the same (*)."""
    if token.startswith("0x"):
        return int(token, 16)
    if token == "*":
        return previous
    if token[0] in "+-":
        step = int(token[1:], 16) if token[1:].startswith("0x") else int(token[1:])
        return previous + step if token[0] == "+" else previous - step
    return int(token)


def instruction_costs(path):
    """Instruction address -> Ir, from a callgrind file whose positions start with instr."""
    costs = collections.Counter()
    positions = 1
    previous = 0
    after_calls = False
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("positions:"):
                positions = len(line.split()[1:])
                if line.split()[1] != "instr":
                    sys.exit("hot_lines.py: the profile needs --dump-instr=yes")
                continue
            if line.startswith("calls="):
                after_calls = True
                continue
            if not line or line[0] not in "0123456789+-*":
                continue
            fields = line.split()
            previous = address(fields[0], previous)
            if after_calls:
                # The line after calls= is the call's inclusive cost, not this instruction's.
                after_calls = False
                continue
            if len(fields) > positions:
                costs[previous] += int(fields[positions])
    return costs


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, requests = sys.argv[1], int(sys.argv[2])
    costs = instruction_costs(path)
    hot = [a for a, ir in costs.items() if 2 * ir >= requests]
    lines = {a // 64 for a in hot}
    print(
        f"{len(hot)} instructions run in every other request or more, on {len(lines)} "
        f"64-byte lines ({len(lines) * 64 / 1024:.1f} KiB)"
    )


if __name__ == "__main__":
    main()

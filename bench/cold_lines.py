#!/usr/bin/env python3
"""The data a request reads cold: cache lines missed in a small cache model, per request,
from two cachegrind profiles of the same binary that differ only in their request count.

After each wake-up a user's state (its task, its connection, its buffers) has been pushed
out of the core's caches by the other users' requests and the kernel's work, the more so
when a neighbour shares the machine's caches; every line of it a request touches is then
a trip to memory. A cache small enough that each user's lines are cold at its next turn
counts those trips (docs/PERFORMANCE.md, "Fewer cold lines a request"):

    for n in 4000 12000; do
      valgrind --tool=cachegrind --cache-sim=yes --I1=32768,8,64 --D1=16384,4,64 \\
        --LL=65536,8,64 --cachegrind-out-file=cg.$n \\
        barrage hit http://127.0.0.1:8000/items/foo -c 50 -n $n --workers 1 --only-summary
    done
    bench/cold_lines.py cg.4000 cg.12000 8000     # 8000: the requests between the two

The difference of the two runs leaves out what each run does once (start-up, the first
connects, the report). The metrics' once-a-second work (merging and zeroing histograms,
compressing windows) costs per second, not per request, and the run under valgrind is
slow, so it is left out by function name (SECOND below) and printed apart. The model's
last level holds code as well as data: a binary whose code misses the first-level cache
(many `I1mr`) pushes data out too, so compare binaries whose code fits (a build laid out
by BOLT runs at about one first-level instruction miss a request).

Standard library only.
"""

import collections
import sys

# The once-a-second work, by function name: hdrhistogram's add and iteration, fresh
# histograms (their memset) and clones (their memcpy), the windows' deflate.
SECOND = (
    "Histogram<T>::add",
    "HistogramIterator",
    "value_at_quantile",
    "new_with_bounds",
    "encode_histogram",
    "memset",
    "memcpy",
    "memmove",
    "miniz_oxide",
    "Windows::close",
)

# cachegrind's events with --cache-sim=yes, in its order.
EVENTS = ["Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw"]


def by_function(path):
    """Function name -> summed event counts, from a cachegrind output file."""
    costs = collections.defaultdict(lambda: [0] * len(EVENTS))
    function = None
    with open(path) as f:
        for line in f:
            if line.startswith("events:") and line.split()[1:] != EVENTS:
                sys.exit("cold_lines.py: the profile needs --cache-sim=yes")
            if line.startswith("fn="):
                function = line[3:].strip()
                continue
            if not line[:1].isdigit():
                continue
            fields = [int(x) for x in line.split()[1:]]
            total = costs[function]
            for i, value in enumerate(fields):
                total[i] += value
    return costs


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    fewer, more, requests = by_function(sys.argv[1]), by_function(sys.argv[2]), int(sys.argv[3])
    request = [0] * len(EVENTS)
    second = [0] * len(EVENTS)
    for function, costs in more.items():
        before = fewer.get(function, [0] * len(EVENTS))
        into = second if any(s in function for s in SECOND) else request
        for i in range(len(EVENTS)):
            into[i] += costs[i] - before[i]
    e = {name: request[i] / requests for i, name in enumerate(EVENTS)}
    cold = e["DLmr"] + e["DLmw"]
    second_cold = (second[EVENTS.index("DLmr")] + second[EVENTS.index("DLmw")]) / requests
    print(
        f"per request: {e['Ir']:.0f} instructions, {e['I1mr']:.1f} first-level instruction misses, "
        f"{e['D1mr']:.1f} + {e['D1mw']:.1f} first-level data misses (read + write), "
        f"cold lines {cold:.1f} ({e['DLmr']:.1f} read + {e['DLmw']:.1f} written)"
    )
    print(
        f"once-a-second work, apart: {second[0] / requests:.0f} instructions, "
        f"{second_cold:.1f} cold lines a request at this run's rate"
    )


if __name__ == "__main__":
    main()

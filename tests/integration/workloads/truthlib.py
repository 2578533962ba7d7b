"""truthlib: what a workload knows about its own heap, computed the way guppy3 (and pycensus) name
kinds: the closure of gc.get_objects() through gc.get_referents(), with sys.getsizeof sizes.
Shared by the integration workloads. Runs on CPython 3.8-3.15."""
import gc
import sys
import types


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# Kind names as guppy3 gives them (the types-module aliases, function and module shortened).
_ALIASES = {}
for _k, _v in types.__dict__.items():
    if isinstance(_v, type) and _v.__module__ == "builtins":
        _ALIASES[_v] = "types." + _k
_ALIASES[types.FunctionType] = "function"
_ALIASES[types.ModuleType] = "module"


def kind(t):
    if t in _ALIASES:
        return _ALIASES[t]
    mod = t.__dict__.get("__module__") if isinstance(t.__dict__, types.MappingProxyType) else None
    if not isinstance(mod, str):
        mod = getattr(t, "__module__", "builtins")
    return t.__name__ if mod == "builtins" else "%s.%s" % (mod, t.__name__)


# Code objects have no tp_traverse, so gc.get_referents() stops at them; their stored attributes
# (not the computed ones, which would create objects) lead to what only code objects reference.
_CODE_ATTRS = ["co_consts", "co_names", "co_filename", "co_name", "co_qualname", "co_linetable",
               "co_exceptiontable"]
if sys.version_info < (3, 11):
    _CODE_ATTRS += ["co_varnames", "co_freevars", "co_cellvars", "co_code"]
if sys.version_info < (3, 10):
    _CODE_ATTRS += ["co_lnotab"]  # the line table's bytes object (co_linetable from 3.10)


def referents(o):
    if type(o) is types.CodeType:
        return [getattr(o, a) for a in _CODE_ATTRS if hasattr(o, a)]
    return gc.get_referents(o)


def bss_range(path, maps_start_offset0):
    """The runtime [start, end) of an ELF file's .bss, from its section headers. The kernel maps
    .bss anonymously and may merge it with a neighbouring anonymous mapping (an arena), so the
    maps alone cannot bound it."""
    import struct
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    e_type = struct.unpack_from("<H", data, 16)[0]
    shoff, = struct.unpack_from("<Q", data, 40)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
    stroff = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 24)[0]
    bias = maps_start_offset0 if e_type == 3 else 0
    for i in range(shnum):
        name, _, _, addr, _, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if data[stroff + name:stroff + name + 5] == b".bss\0":
            return (bias + addr, bias + addr + size)
    return None


def file_backed_ranges():
    """Address ranges of static data: file mappings, and the .bss of the interpreter's objects
    (3.8 keeps its small ints there)."""
    ranges, first = [], {}
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if len(parts) >= 6 and parts[5].startswith("/"):
                ranges.append((lo, hi))
                if int(parts[2], 16) == 0:
                    first.setdefault(parts[5], lo)
    for path, start in first.items():
        if "python" in path.rsplit("/", 1)[-1]:
            r = bss_range(path, start)
            if r:
                ranges.append(r)
    return _merged(ranges)


def _merged(ranges):
    """Address ranges merged and sorted, as (starts, ends), so that a lookup is a binary search (in_ranges):
    a scan of the ~100 ranges per object was most of a million-object truth's time. Plain lists,
    no class: a class defined here added dicts the free-threaded build keeps out of the closure."""
    starts, ends = [], []
    for lo, hi in sorted(ranges):
        if ends and lo <= ends[-1]:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def in_ranges(merged, addr):
    starts, ends = merged
    lo, hi = 0, len(starts)
    while lo < hi:  # the last start <= addr (no bisect import: its module is heap the truth would show)
        mid = (lo + hi) // 2
        if starts[mid] <= addr:
            lo = mid + 1
        else:
            hi = mid
    return lo > 0 and addr < ends[lo - 1]


def _closure_objects():
    objs = gc.get_objects()
    seen = {id(objs): None}
    stack = list(objs)
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen[id(o)] = o
        stack.extend(referents(o))
    del seen[id(objs)]
    return seen


def closure():
    # the objects first: the ranges (tuples of ints, ~100 of each) are the truth's own, not the heap's
    objects = _closure_objects()
    statics = file_backed_ranges()
    counts = {}
    for o in objects.values():
        if o is None:
            continue
        k = "dict" if type(o) is dict else kind(type(o))
        c = counts.setdefault(k, [0, 0, 0, 0])
        size = sys.getsizeof(o)
        c[0] += 1
        c[1] += size
        if in_ranges(statics, id(o)):
            c[2] += 1
        elif size > 512 and not gc.is_tracked(o):
            c[3] += 1  # outside pymalloc and off the GC lists: only references lead to it
    return counts


_PADDING = []


def settle_interned():
    """Grows the interpreter's interned-strings dict past its next resize, so that the names a
    later step or truth() interns cannot resize it between a census and the truth (3.15.2: the
    dict had 5395 of 5461 usable slots; its resize, +103,760 bytes, landed inside the truth).
    Only where the dict is GC-tracked and so visible (found as the dict mapping its strings to
    themselves); the padding stays alive and exists before any baseline."""
    probe = "__subclasses__"
    for d in gc.get_objects():
        if type(d) is dict and len(d) > 1000 and d.get(probe) is probe:
            before = sys.getsizeof(d)
            i = 0
            while sys.getsizeof(d) == before and i < 1 << 20:
                _PADDING.append(sys.intern("pycensus-interned-padding-%d" % i))
                i += 1
            return


def truth(tag="truth"):
    """Prints the closure as "<tag> <kind>\t<count>\t<size>\t<statics>\t<big untracked>" lines."""
    for k, (n, s, st, big) in sorted(closure().items()):
        say("%s %s\t%d\t%d\t%d\t%d" % (tag, k, n, s, st, big))


def big_bytes():
    """sys.getsizeof summed over the heap objects above pymalloc's 512-byte limit: what lives in
    malloc'd memory outside the arenas (up to the object heads of big containers)."""
    statics = file_backed_ranges()
    total = 0
    for o in _closure_objects().values():
        if o is None:
            continue
        n = sys.getsizeof(o)
        if n > 512 and not in_ranges(statics, id(o)):
            total += n
    return total



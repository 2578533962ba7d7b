"""subinterp.py N: N sub-interpreters beside the main one, through the module this CPython has
(_interpreters from 3.13, _xxsubinterpreters from 3.8), each running a little code. Prints
'interpreters <total>' (the count the runtime's list holds, main included), or 'none' when the
build has neither module, then sleeps."""
import importlib
import sys
import time

N = int(sys.argv[1])
mod = None
for name in ("_interpreters", "_xxsubinterpreters"):
    try:
        mod = importlib.import_module(name)
        break
    except ImportError:
        pass
if mod is None:
    print("none", flush=True)
    sys.exit(0)
ids = [mod.create() for _ in range(N)]
for i in ids:
    run = getattr(mod, "run_string", None) or getattr(mod, "exec")
    run(i, "x = [object() for _ in range(100)]")
print("interpreters", len(mod.list_all()), flush=True)
time.sleep(600)

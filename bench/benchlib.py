"""bench/benchlib.py: what the benchmarks share: the reference interpreter, found, not assumed."""
import os
import re
import subprocess


def default_python():
    """pyenv's newest 3.12 build (the benchmarks' reference interpreter)."""
    root = os.environ.get("PYENV_ROOT")
    if not root:
        try:
            root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  universal_newlines=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            root = os.path.expanduser("~/.pyenv")
    vdir = os.path.join(root, "versions")
    builds = sorted((d for d in (os.listdir(vdir) if os.path.isdir(vdir) else []) if re.fullmatch(r"3\.12\.\d+", d)),
                    key=lambda d: int(d.split(".")[2]))
    return os.path.join(vdir, builds[-1], "bin", "python3.12") if builds else "python3.12"

"""A real application for `pycensus inspect`: Sphinx (Debian's python3-sphinx, for /usr/bin/python3)
building a generated reStructuredText tree of PAGES pages (default 150; 20 documented functions
each, with cross-references, field lists, code blocks, notes and tables) into HTML, then holding
still with the finished build in memory: a build-finished hook prints "ready <pid>" and sleeps
until the process is killed.

    apt-get install python3-sphinx          # one-off; the tests do not need it
    /usr/bin/python3 examples/waste_sphinx.py [PAGES]
    pycensus inspect PID

The tree and the HTML go to a temporary directory, removed at exit."""
import os
import shutil
import signal
import sys
import tempfile

from sphinx.cmd.build import build_main

CONF = '''project = "demo"
import os, time


def hold(app, exc):
    """Keeps the finished build in memory for pycensus."""
    print("ready %d" % os.getpid(), flush=True)
    while True:
        time.sleep(1)


def setup(app):
    app.connect("build-finished", hold)
'''


def page(i, n):
    out = [".. _page%d:\n\nModule %d\n%s\n\n" % (i, i, "=" * (7 + len(str(i))))]
    for k in range(20):
        title = "function_%d_%d" % (i, k)
        out.append(".. _p%d-f%d:\n\n%s\n%s\n\n" % (i, k, title, "-" * len(title)))
        out.append("Computes the *value* of a **record** for the given key; see :ref:`page%d` and :ref:`p%d-f%d`.\n\n"
                   % ((i + 1) % n, (i + 3) % n, k))
        out.append(":param key: the key of the record\n:param default: what to return when missing\n"
                   ":returns: the record's value\n\n")
        out.append(".. code-block:: python\n\n   value = %s(key, default=None)\n   print(value)\n\n" % title)
        out.append(".. note::\n\n   The record is read from the cache when present.\n\n")
        out.append("=======  =======\nName     Value\n=======  =======\nkey      str\ndefault  object\n=======  =======\n\n")
    return "".join(out)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    root = tempfile.mkdtemp(prefix="waste_sphinx-")
    src = os.path.join(root, "src")
    os.mkdir(src)
    with open(os.path.join(src, "conf.py"), "w") as f:
        f.write(CONF)
    with open(os.path.join(src, "index.rst"), "w") as f:
        f.write("Demo\n====\n\n.. toctree::\n   :maxdepth: 2\n\n" + "".join("   page%d\n" % i for i in range(n)))
    for i in range(n):
        with open(os.path.join(src, "page%d.rst" % i), "w") as f:
            f.write(page(i, n))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # kill PID removes the directory too
    try:
        build_main(["-q", "-b", "html", src, os.path.join(root, "html")])
    except KeyboardInterrupt:
        pass
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

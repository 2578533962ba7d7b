"""htmlcheck.py: test_htmlgraph's reader of the DOM Chromium built from a pycensus HTML page (run by
Debian's python3, never by the interpreter under test), compared with the CSV or JSON pycensus
wrote for the same census (the same dump file).

    htmlcheck.py stats DOM CSV       every metric of `stats -f csv` is a cell of the page named by
                                     it (data-m), with the same value ('unavailable' for an empty
                                     one, yes/no for 1/0); the size-class columns and the stacked
                                     bars carry the CSV's figures (data-v); sample_s, the time
                                     each run takes, is left out. On a free-threaded build
                                     (mimalloc.* metrics) pymalloc's zeros are not on the page,
                                     nor its charts; mimalloc's columns carry every class's
                                     figures, each in its chart
    htmlcheck.py why DOM JSON        every step of `why -f json` is a <details> (data-id) under its
                                     parent's, children in the document's order, with the step's
                                     label, kind or root, and figures (data-f)
    htmlcheck.py retained DOM JSON   the kinds and objects tables hold the document's rows, in its
                                     order, cell by cell (data-k)

Prints what it compared ("stats: 212 figures ..."), and for retained "object ADDRESS RETAINED
RETAINED_OBJECTS" per row of the objects table, for the test to hold against the target's own
figures; every difference on a line of its own, then exits 1."""
import csv
import html.parser
import json
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
problems = []


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids, self.text = tag, dict(attrs), parent, [], []

    def all_text(self):
        return "".join(k if isinstance(k, str) else k.all_text() for k in self.kids)

    def walk(self):
        yield self
        for k in self.kids:
            if isinstance(k, Node):
                yield from k.walk()

    def first(self, pred):
        return next((n for n in self.walk() if pred(n)), None)

    def cls(self):
        return self.attrs.get("class", "").split()


class Dom(html.parser.HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = self.at = Node("#root", {}, None)
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.at)
        self.at.kids.append(n)
        if tag not in VOID:
            self.at = n

    def handle_startendtag(self, tag, attrs):
        self.at.kids.append(Node(tag, attrs, self.at))

    def handle_endtag(self, tag):
        n = self.at
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.at = n.parent

    def handle_data(self, data):
        self.at.kids.append(data)


def bad(what):
    problems.append(what)


def same_number(a, b):
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return abs(x - y) <= 1e-6 + 1e-9 * abs(x)


def svg_of(n):
    while n is not None and n.tag != "svg":
        n = n.parent
    return None if n is None else n.attrs.get("id")


def by_id(dom, ident):
    return dom.root.first(lambda x: x.attrs.get("id") == ident)


# A free-threaded page's columns: the figure of each mimalloc class, and the chart it is in.
MI_COLUMNS = {"bytes_in_use": "mi-bytes", "bytes_available": "mi-bytes", "blocks": "mi-blocks", "avail": "mi-blocks",
              "held_pages": "mi-pages", "abandoned_pages": "mi-pages"}
PYMALLOC_ONLY = ("pymalloc.", "fragmentation.")


def mimalloc(dom, want, cells, rects):
    """A free-threaded build's page: no pymalloc chart, table, cell or bar, but the line saying
    so; each mimalloc class's columns in their charts with the CSV's figures; the totals' bars.
    How many bars it compared, classes and heaps."""
    if by_id(dom, "no-pymalloc") is None:
        bad("no line saying the build has no pymalloc")
    for gone in ("class-bytes", "class-blocks", "arenas", "classes", "pymalloc", "fragmentation"):
        if by_id(dom, gone) is not None:
            bad("pymalloc's #%s is on a free-threaded page" % gone)
    for m in list(cells) + list(rects):
        if m.startswith(PYMALLOC_ONLY):
            bad("pymalloc's %s is on a free-threaded page" % m)
    nbars = i = avail = 0
    heaps = set()
    while "mimalloc.classes.%d.block_size" % i in want:
        p = "mimalloc.classes.%d." % i
        size, blocks, n_avail, pages, abandoned = (int(want[p + k]) for k in
                                                   ("block_size", "blocks", "avail", "pages", "abandoned_pages"))
        heaps.add(want[p + "heap"])
        avail += n_avail
        expect = {"bytes_in_use": blocks * size, "bytes_available": n_avail * size, "blocks": blocks, "avail": n_avail,
                  "held_pages": pages - abandoned, "abandoned_pages": abandoned}
        for k, v in expect.items():
            got = rects.get(p + k, (None, None))
            if got[0] is None or int(got[0]) != v or got[1] != MI_COLUMNS[k]:
                bad("mimalloc class %d (%s, %d bytes): column %s is %r in #%s, the CSV says %d in #%s" %
                    (i, want[p + "heap"], size, k, got[0], got[1], v, MI_COLUMNS[k]))
            nbars += 1
        i += 1
    if i == 0:
        bad("the CSV has no mimalloc size class")
    totals = {"mimalloc.held_segments": int(want["mimalloc.segments"]) - int(want["mimalloc.abandoned_segments"]),
              "mimalloc.avail_blocks": avail}
    for m, v in totals.items():
        got = rects.get(m, (None, None))
        if got[0] is None or int(got[0]) != v or got[1] != "mi-totals":
            bad("bar %s is %r in #%s, the CSV says %d in #mi-totals" % (m, got[0], got[1], v))
        nbars += 1
    return nbars, i, len(heaps)


def stats(dom, csv_path):
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    want = {r[0]: r[1] for r in rows}
    ft = "mimalloc.segments" in want
    cells = {n.attrs["data-m"]: n.all_text() for n in dom.root.walk() if n.tag == "td" and n.attrs.get("data-m")}
    rects = {n.attrs["data-m"]: (n.attrs.get("data-v"), svg_of(n)) for n in dom.root.walk()
             if n.tag == "rect" and n.attrs.get("data-m")}
    bars = {m: v[0] for m, v in rects.items()}
    warned = [n.all_text() for n in dom.root.walk() if n.tag == "li"]
    figures = nbars = 0
    for m, v in want.items():
        if m.startswith("warnings."):
            if not any(v in w for w in warned):
                bad("warning %r not on the page" % v)
            continue
        if m == "sample_s":  # how long this run of stats took to read the dump: each run its own
            continue
        if ft and m.startswith(PYMALLOC_ONLY):  # zeros: a free-threaded build has no pymalloc
            continue
        if m.endswith("_unavailable"):
            if v and not any(v in w for w in warned):
                bad("%s: %r not on the page" % (m, v))
            continue
        if m not in cells:
            bad("metric %s (%r) has no cell" % (m, v))
            continue
        shown = {"yes": "1", "no": "0"}.get(cells[m], cells[m])
        ok = shown == "unavailable" if v == "" else shown == v or same_number(shown, v)
        if not ok:
            bad("metric %s: the page shows %r, the CSV %r" % (m, cells[m], v))
        figures += 1
    for m, v in bars.items():
        if m in want:
            nbars += 1
            if not same_number(v, want[m]):
                bad("bar %s is %r, the CSV %r" % (m, v, want[m]))
    generations = sum(1 for m in want if m.startswith("gc.generations.") and m.endswith(".count"))
    status = by_id(dom, "status")
    status = "" if status is None else status.all_text()
    if ft:
        n, classes, heaps = mimalloc(dom, want, cells, rects)
        expect = "ok: %d mimalloc size classes in %d heaps, %s segments, %d generations" % (
            classes, heaps, want["mimalloc.segments"], generations)
        if status != expect:
            bad("the page's status is %r, not %r" % (status, expect))
        print("stats: %d figures and %d bars equal to the CSV; %d mimalloc size classes in %d heaps; no pymalloc" %
              (figures, nbars + n, classes, heaps))
        return
    i = 0
    while "pymalloc.classes.%d.block_size" % i in want:
        p = "pymalloc.classes.%d." % i
        size = int(want[p + "block_size"])
        expect = {"blocks": int(want[p + "blocks"]), "avail": int(want[p + "avail"]),
                  "bytes_in_use": int(want[p + "blocks"]) * size, "bytes_available": int(want[p + "avail"]) * size}
        for k, v in expect.items():
            if bars.get(p + k) is None or int(bars[p + k]) != v:
                bad("size class %d's column %s is %r, the CSV says %d" % (i, k, bars.get(p + k), v))
            nbars += 1
        i += 1
    expect = "ok: %d size classes, %s arenas, %d generations" % (i, want["pymalloc.arenas_current"], generations)
    if status != expect:
        bad("the page's status is %r, not %r" % (status, expect))
    print("stats: %d figures and %d bars equal to the CSV; %d size classes" % (figures, nbars, i))


def why(dom, doc):
    nodes = {}
    for n in dom.root.walk():
        if n.tag == "details" and "data-id" in n.attrs:
            nodes[int(n.attrs["data-id"])] = n
    for s in doc["steps"]:
        n = nodes.get(s["id"])
        if n is None:
            bad("step %d has no element" % s["id"])
            continue
        up = n.parent
        while up is not None and up.tag != "details":
            up = up.parent
        parent = int(up.attrs["data-id"]) if up is not None else None
        if parent != s["parent"]:
            bad("step %d is under %r, its parent is %r" % (s["id"], parent, s["parent"]))
        kids = [int(k.attrs["data-id"]) for k in n.kids if isinstance(k, Node) and k.tag == "details"]
        if kids != s["children"]:
            bad("step %d's children %r, the document's %r" % (s["id"], kids, s["children"]))
        summary = n.first(lambda x: x.tag == "summary")
        fields = {x.attrs["data-f"]: x.all_text() for x in summary.walk() if "data-f" in x.attrs}
        for f in ("through", "retained", "objects", "selected_here"):
            if (s[f] or f != "selected_here") and fields.get(f) != str(s[f]):
                bad("step %d: %s shown %r, the document's %r" % (s["id"], f, fields.get(f), s[f]))
        text = {c: (summary.first(lambda x, c=c: c in x.cls()) or Node("", {}, None)).all_text()
                for c in ("root", "lbl", "kind")}
        label = None if s["label"] is None else ("[*] e.g. " if s["any_item"] else "") + s["label"]
        if s["root"] is not None and text["root"] != s["root"]:
            bad("step %d: root %r, the document's %r" % (s["id"], text["root"], s["root"]))
        if s["root"] is None and (text["lbl"] != label or text["kind"] != s["kind"]):
            bad("step %d: %r %r, the document's %r %r" % (s["id"], text["lbl"], text["kind"], label, s["kind"]))
    tree = dom.root.first(lambda x: x.attrs.get("id") == "tree")
    roots = [int(k.attrs["data-id"]) for k in tree.kids if isinstance(k, Node) and k.tag == "details"]
    if roots != doc["roots"]:
        bad("roots %r, the document's %r" % (roots, doc["roots"]))
    if len(nodes) != len(doc["steps"]):
        bad("%d steps on the page, %d in the document" % (len(nodes), len(doc["steps"])))
    leaves = [s for s in doc["steps"] if s["selected_here"]]
    print("why: %d steps equal to the JSON; selected %d, %d selected at the leaves" %
          (len(doc["steps"]), doc["selected"], sum(s["selected_here"] for s in leaves)))


def table_rows(dom, ident):
    t = dom.root.first(lambda x: x.tag == "table" and x.attrs.get("id") == ident)
    if t is None:
        bad("no table %s" % ident)
        return []
    body = t.first(lambda x: x.tag == "tbody")
    return [{c.attrs.get("data-k"): c.all_text() for c in r.kids if isinstance(c, Node) and c.tag == "td"}
            for r in body.kids if isinstance(r, Node) and r.tag == "tr"]


def retained(dom, doc):
    kinds = table_rows(dom, "kinds")
    want = [{k: str(v) for k, v in row.items()} for row in doc["kinds"]]
    if kinds != want:
        first = next((i for i, (a, b) in enumerate(zip(kinds, want)) if a != b), min(len(kinds), len(want)))
        bad("kinds table differs from the document at row %d (%d rows, %d in the document): %r vs %r" %
            (first, len(kinds), len(want), kinds[first] if first < len(kinds) else None,
             want[first] if first < len(want) else None))
    objs = table_rows(dom, "objects")
    if len(objs) != len(doc["objects"]):
        bad("%d objects on the page, %d in the document" % (len(objs), len(doc["objects"])))
    for i, (row, o) in enumerate(zip(objs, doc["objects"])):
        expect = {"depth": str(o["depth"]), "retained": str(o["retained"]), "retained_objects": str(o["retained_objects"]),
                  "size": str(o["size"]), "address": "" if o["address"] is None else "%#x" % o["address"],
                  "what": o["root"] if o["root"] is not None else o["kind"], "description": o["description"] or ""}
        if row != expect:
            bad("object row %d: %r, the document's %r" % (i, row, expect))
        print("object %s %s %s" % (row.get("address") or "-", row.get("retained"), row.get("retained_objects")))
    print("retained: %d kinds and %d objects equal to the JSON" % (len(kinds), len(objs)))


def main():
    what, dom_path, other = sys.argv[1:4]
    with open(dom_path, encoding="utf-8") as f:
        dom = Dom(f.read())
    if what == "stats":
        stats(dom, other)
    else:
        with open(other, encoding="utf-8") as f:
            doc = json.load(f)
        {"why": why, "retained": retained}[what](dom, doc)
    for p in problems:
        print("differs: " + p)
    sys.exit(1 if problems else 0)


main()

/* html_graph.c: `pycensus why -f html` and `pycensus retained -f html` (report/html.h). why: the
 * merged shortest paths as a tree of <details> elements (a click folds or unfolds a step), the
 * branches holding at least 1 % of what the selection retains open at first. retained: the kinds
 * by retained size and the dominator tree's largest objects as tables sortable by any column. Each
 * page embeds the document `-f json` writes (report/json_docs.h) and draws from it; every figure
 * shown names its field (data-f in the tree, data-k in the tables), which the Chromium test
 * compares with that document. */
#include "common/compat.h"
#include "report/html.h"

#include "report/json_docs.h"

/* One line of JavaScript per line, no double quotes or backslashes (as html_assets.c). */
static const char why_js[] =
	"  var total = d.selected_retained, OPEN = 0.01, steps = d.steps;\n"
	"  function field(name, v, text) {\n"
	"    var s = el('span', 'f', String(v));\n"
	"    s.dataset.f = name;\n"
	"    if (text) s.title = text;\n"
	"    return s;\n"
	"  }\n"
	"  /* A step: how the step before holds it and its kind (or the root's name), its figures; its\n"
	"   * children below, largest first as the document orders them. */\n"
	"  function step(id, depth) {\n"
	"    var s = steps[id], det = el('details', s.children.length ? '' : 'leaf'), sum = el('summary');\n"
	"    det.dataset.id = id;\n"
	"    det.open = s.children.length > 0 && s.retained >= OPEN * total && depth < 40;\n"
	"    var bar = el('span', 'bar');\n"
	"    bar.style.width = (total ? Math.min(100, 100 * s.retained / total) : 0).toFixed(1) + 'px';\n"
	"    sum.appendChild(bar);\n"
	"    if (s.root !== null) sum.appendChild(el('b', 'root', s.root));\n"
	"    else {\n"
	"      sum.appendChild(el('span', 'lbl', (s.any_item ? '[*] e.g. ' : '') + s.label));\n"
	"      sum.appendChild(document.createTextNode(' '));\n"
	"      sum.appendChild(el('span', 'kind', s.kind));\n"
	"    }\n"
	"    sum.appendChild(document.createTextNode(' — '));\n"
	"    sum.appendChild(field('through', s.through));\n"
	"    sum.appendChild(document.createTextNode(' selected through here, retaining '));\n"
	"    sum.appendChild(field('retained', s.retained, bytes(s.retained) + ', ' + pct(s.retained, total) + ' % of the selection'));\n"
	"    sum.appendChild(document.createTextNode(' bytes; '));\n"
	"    sum.appendChild(field('objects', s.objects));\n"
	"    sum.appendChild(document.createTextNode(' objects here'));\n"
	"    if (s.selected_here) {\n"
	"      sum.appendChild(document.createTextNode(', '));\n"
	"      sum.appendChild(field('selected_here', s.selected_here));\n"
	"      sum.appendChild(document.createTextNode(' of them selected'));\n"
	"    }\n"
	"    det.appendChild(sum);\n"
	"    s.children.forEach(function (c) { det.appendChild(step(c, depth + 1)); });\n"
	"    return det;\n"
	"  }\n"
	"  document.getElementById('summary').textContent = 'why ' + d.selection + ' are alive: ' + d.selected +\n"
	"    ' selected, retaining ' + total + ' bytes (' + bytes(total) + ') in ' + d.selected_retained_objects +\n"
	"    ' objects; the census graph: ' + d.graph.objects + ' objects, ' + d.graph.references + ' references';\n"
	"  warnings();\n"
	"  var w = document.getElementById('warnings');\n"
	"  if (d.via_held) w.appendChild(el('li', 'warn', d.via_held + ' selected objects are reached from (held from C) only'));\n"
	"  if (d.via_garbage) w.appendChild(el('li', 'warn', d.via_garbage + ' selected objects are unreachable garbage'));\n"
	"  if (d.too_deep) w.appendChild(el('li', 'warn', d.too_deep + ' paths were cut: longer than pycensus follows'));\n"
	"  var tree = document.getElementById('tree');\n"
	"  d.roots.forEach(function (r) { tree.appendChild(step(r, 0)); });\n"
	"  function all(open) {\n"
	"    Array.prototype.forEach.call(tree.querySelectorAll('details'), function (x) { x.open = open && !x.classList.contains('leaf'); });\n"
	"  }\n"
	"  document.getElementById('expand').addEventListener('click', function () { all(true); });\n"
	"  document.getElementById('collapse').addEventListener('click', function () { all(false); });\n"
	"  done(steps.length + ' steps, ' + d.roots.length + ' roots, ' + d.selected + ' selected, ' + total + ' bytes retained');\n";

static const char retained_js[] =
	"  document.getElementById('summary').textContent = d.heap_objects + ' objects, ' + d.heap + ' bytes (' +\n"
	"    bytes(d.heap) + '); the census graph: ' + d.graph.objects + ' objects, ' + d.graph.references + ' references';\n"
	"  warnings();\n"
	"  function share(k) {\n"
	"    return function (r) {\n"
	"      var td = num(r[k]);\n"
	"      td.title = bytes(r[k]) + ', ' + pct(r[k], d.heap) + ' % of the heap';\n"
	"      return td;\n"
	"    };\n"
	"  }\n"
	"  sortable(document.getElementById('kinds'), [['retained', 'Retained', 'n', share('retained')],\n"
	"    ['retained_objects', 'Retained objects', 'n'], ['size', 'Size', 'n'], ['count', 'Count', 'n'],\n"
	"    ['kind', 'Kind', 's']], d.kinds);\n"
	"  var objs = d.objects.map(function (o) {\n"
	"    return { depth: o.depth, what: o.root !== null ? o.root : o.kind, address: o.address === null ? '' :\n"
	"      '0x' + o.address.toString(16), size: o.size, retained_objects: o.retained_objects, retained: o.retained,\n"
	"      description: o.description === null ? '' : o.description };\n"
	"  });\n"
	"  sortable(document.getElementById('objects'), [['depth', 'Depth', 'n'], ['retained', 'Retained', 'n', share('retained')],\n"
	"    ['retained_objects', 'Retained objects', 'n'], ['size', 'Size', 'n'], ['address', 'Address', 's'],\n"
	"    ['what', 'Kind or root', 's', function (r) { var td = el('td', 'k', r.what); td.style.paddingLeft = (8 + 14 * r.depth) + 'px'; return td; }],\n"
	"    ['description', 'Description', 's']], objs);\n"
	"  done(d.kinds.length + ' kinds, ' + d.objects.length + ' objects, ' + d.heap + ' bytes');\n";

struct why_doc {
	const struct census *c;
	const struct objgraph *og;
	const struct pathtree *t;
	const char *what;
};

static int write_why(FILE *out, const void *arg, struct pc_err *e)
{
	const struct why_doc *w = arg;

	return report_paths_json(out, w->c, w->og, w->t, w->what, e);
}

int report_paths_html(FILE *out, const struct census *c, const struct objgraph *og, const struct pathtree *t,
		      const char *what, struct pc_err *e)
{
	struct why_doc w = { c, og, t, what };

	html_put_head(out, "why", c);
	fputs("<section>\n<h2>Shortest paths from the roots, merged</h2>\n"
	      "<p><button id=\"expand\">expand all</button> <button id=\"collapse\">collapse all</button></p>\n"
	      "<div id=\"tree\"></div>\n<p class=\"hint\">Each step: how the one before holds it and its kind. "
	      "Click a step to fold or unfold it; the bar is its share of what the selection retains.</p>\n</section>\n",
	      out);
	return html_put_end(out, write_why, &w, why_js, e);
}

static int write_retained(FILE *out, const void *r, struct pc_err *e)
{
	return report_retained_json(out, r, e);
}

int report_retained_html(FILE *out, const struct retained_report *r, struct pc_err *e)
{
	html_put_head(out, "retained", r->c);
	fputs("<section>\n<h2>Kinds by retained size</h2>\n<table id=\"kinds\"></table>\n"
	      "<p class=\"hint\">Retained: the bytes that would be freed with the kind's objects (each object's "
	      "retained set counted once per kind). Click a header to sort.</p>\n</section>\n"
	      "<section>\n<h2>Largest objects (the dominator tree, depth first)</h2>\n<table id=\"objects\"></table>\n"
	      "</section>\n",
	      out);
	return html_put_end(out, write_retained, r, retained_js, e);
}

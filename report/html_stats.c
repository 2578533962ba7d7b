/* html_stats.c: `pycensus stats -f html` (report/html.h): the stats JSON document (report/stats.h)
 * embedded in a page whose script draws charts in SVG and the text report's tables. A build with
 * pymalloc: its size classes as columns (bytes and blocks, in use and available), its arena bytes,
 * the arenas and the resident set as stacked bars. A free-threaded build (the document's
 * "mimalloc" part; its pymalloc figures are zeros, left out with a line saying why): mimalloc's
 * size classes as columns stacked by heap (bytes and blocks, in use and available; pages held by
 * running threads and abandoned by exited ones), its segments and blocks as stacked bars. Every
 * figure from the document sits in a cell or bar named by its CSV metric
 * (data-m="pymalloc.classes.3.blocks"), which is what the Chromium test compares. */
#include "common/compat.h"
#include "report/html.h"

#include "report/stats.h"

/* The script in parts, so each build's page is the parts it needs; one line of JavaScript per
 * line, no double quotes or backslashes (as html_assets.c). JS_COMMON: the helpers and the
 * header; JS_GC_MEMORY: the GC and process memory tables. */
#define JS_COMMON \
	"  var P = d.pymalloc, F = d.fragmentation;\n" \
	"  /* name -> words, for the figures tables; a name not here is shown with spaces for _ */\n" \
	"  var words = {\n" \
	"    arenas_allocated_total: 'arenas allocated total', arenas_reclaimed: 'arenas reclaimed',\n" \
	"    arenas_highwater: 'arenas highwater mark', arenas_current: 'arenas allocated current',\n" \
	"    arenas_bytes: 'bytes in arenas', bytes_allocated_blocks: 'bytes in allocated blocks',\n" \
	"    bytes_available_blocks: 'bytes in available blocks', unused_pools: 'unused pools',\n" \
	"    bytes_unused_pools: 'bytes in unused pools', bytes_pool_headers: 'bytes lost to pool headers',\n" \
	"    bytes_quantization: 'bytes lost to quantization', bytes_arena_alignment: 'bytes lost to arena alignment',\n" \
	"    pinned_arenas: 'pinned arenas (live blocks fill at most ' + F.pinned_max_percent + ' %)',\n" \
	"    vm_rss: 'VmRSS', vm_hwm: 'VmHWM', rss_anon: 'RssAnon', rss_file: 'RssFile', rss_shmem: 'RssShmem',\n" \
	"    pss: 'Pss', uss: 'Uss (Private_Clean + Private_Dirty)', swap: 'Swap'\n" \
	"  };\n" \
	"\n" \
	"  function figures(id, obj, prefix) {\n" \
	"    var t = document.getElementById(id);\n" \
	"    Object.keys(obj).forEach(function (k) {\n" \
	"      var v = obj[k];\n" \
	"      if (typeof v === 'object' && v !== null) return; /* a table of its own */\n" \
	"      if (v === null && /_unavailable$/.test(k)) return; /* shown when it says why */\n" \
	"      var tr = el('tr'), td;\n" \
	"      tr.appendChild(el('td', '', words[k] || k.replace(/_/g, ' ')));\n" \
	"      if (typeof v === 'boolean') td = el('td', 'n', v ? 'yes' : 'no');\n" \
	"      else if (typeof v === 'string') td = el('td', 'k', v);\n" \
	"      else td = num(v);\n" \
	"      td.dataset.m = prefix + k;\n" \
	"      tr.appendChild(td);\n" \
	"      tr.appendChild(el('td', 'h', typeof v === 'number' && /bytes|^vm_|^rss|^pss|^uss|^swap|^resident|^swapped/.test(k) ? bytes(v) : ''));\n" \
	"      t.appendChild(tr);\n" \
	"    });\n" \
	"  }\n" \
	"\n" \
	"  /* Stacked columns: one per label, stacks [{name, color, v: [...], m: [...]}]. */\n" \
	"  function columns(g, labels, stacks, fmt) {\n" \
	"    var W = 1200, H = 280, L = 80, B = 36, T = 10, n = labels.length, max = 1;\n" \
	"    labels.forEach(function (l, i) {\n" \
	"      var s = 0;\n" \
	"      stacks.forEach(function (k) { s += k.v[i]; });\n" \
	"      max = Math.max(max, s);\n" \
	"    });\n" \
	"    var bw = (W - L - 150) / Math.max(n, 1), longest = 0;\n" \
	"    labels.forEach(function (l) { longest = Math.max(longest, l.length); });\n" \
	"    /* one label in step: 7.3 px a character of 12px monospace, 6 px apart */\n" \
	"    var step = Math.max(1, Math.ceil((7.3 * longest + 6) / bw));\n" \
	"    g.setAttribute('viewBox', '0 0 ' + W + ' ' + H);\n" \
	"    for (var i = 0; i <= 4; i++) {\n" \
	"      var y = H - B - (H - B - T) * i / 4, ly = svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' });\n" \
	"      g.appendChild(svg('line', { x1: L, x2: W - 150, y1: y, y2: y, class: 'grid' }));\n" \
	"      ly.textContent = fmt(Math.round(max * i / 4));\n" \
	"      g.appendChild(ly);\n" \
	"    }\n" \
	"    labels.forEach(function (l, i) {\n" \
	"      var y = H - B, x = L + i * bw;\n" \
	"      stacks.forEach(function (k) {\n" \
	"        var h = (H - B - T) * k.v[i] / max, r = svg('rect', { x: x + 1, y: y - h, width: Math.max(bw - 2, 1), height: h,\n" \
	"          fill: k.color, 'data-m': k.m[i], 'data-v': k.v[i] }), t = svg('title', {});\n" \
	"        t.textContent = l + ': ' + k.name + ' ' + k.v[i];\n" \
	"        r.appendChild(t);\n" \
	"        g.appendChild(r);\n" \
	"        y -= h;\n" \
	"      });\n" \
	"      if (i % step === 0) {\n" \
	"        var lx = svg('text', { x: x + bw / 2, y: H - B + 14, 'text-anchor': 'middle' });\n" \
	"        lx.textContent = l;\n" \
	"        g.appendChild(lx);\n" \
	"      }\n" \
	"    });\n" \
	"    var cap = svg('text', { x: L + n * bw / 2, y: H - 6, 'text-anchor': 'middle' });\n" \
	"    cap.textContent = 'block size (bytes) of each size class';\n" \
	"    g.appendChild(cap);\n" \
	"    stacks.forEach(function (k, i) {\n" \
	"      var key = svg('text', { x: W - 140, y: T + 14 + 18 * i, fill: k.color });\n" \
	"      key.textContent = '■ ' + k.name;\n" \
	"      g.appendChild(key);\n" \
	"    });\n" \
	"  }\n" \
	"\n" \
	"  /* Stacked bars, one a row: rows [{title, parts: [[words, value, metric]]}]; a null part is\n" \
	"   * left out (the build cannot give it). */\n" \
	"  function bars(g, rows) {\n" \
	"    var W = 1200, L = 190, R = 20, RH = 82, colors = ['#4a7', '#9cd', '#db6', '#e96', '#c8c', '#999'];\n" \
	"    g.setAttribute('viewBox', '0 0 ' + W + ' ' + RH * rows.length);\n" \
	"    rows.forEach(function (row, k) {\n" \
	"      var parts = row.parts.filter(function (p) { return p[1] !== null && p[1] !== undefined; }), total = 0, x = L;\n" \
	"      var lt = svg('text', { x: 0, y: RH * k + 22 }), lx = L, ly = RH * k + 46;\n" \
	"      parts.forEach(function (p) { total += p[1]; });\n" \
	"      lt.textContent = row.title + (parts.length ? '' : ': unavailable');\n" \
	"      g.appendChild(lt);\n" \
	"      parts.forEach(function (p, i) {\n" \
	"        var w = total ? (W - L - R) * p[1] / total : 0, r = svg('rect', { x: x, y: RH * k + 6, width: w, height: 22,\n" \
	"          fill: colors[i % colors.length], 'data-m': p[2], 'data-v': p[1] }), t = svg('title', {});\n" \
	"        t.textContent = p[0] + ': ' + p[1] + ' (' + pct(p[1], total) + ' %)';\n" \
	"        r.appendChild(t);\n" \
	"        g.appendChild(r);\n" \
	"        x += w;\n" \
	"        var key = svg('text', { fill: colors[i % colors.length] });\n" \
	"        key.textContent = '■ ' + p[0] + ' ' + (row.fmt ? row.fmt(p[1]) : p[1]);\n" \
	"        if (lx + 7.3 * key.textContent.length > W - R) { lx = L; ly += 18; } /* the legend wraps */\n" \
	"        key.setAttribute('x', lx);\n" \
	"        key.setAttribute('y', ly);\n" \
	"        g.appendChild(key);\n" \
	"        lx += 14 + 7.3 * key.textContent.length;\n" \
	"      });\n" \
	"    });\n" \
	"  }\n" \
	"\n" \
	"  function secs(v) { return v === null ? '? s' : v.toFixed(3) + ' s'; }\n" \
	"  document.getElementById('summary').textContent = 'arenas found via ' + d.arena_source + '; ' + d.threads +\n" \
	"    (d.threads === 1 ? ' thread' : ' threads') + '; pause ' + secs(d.pause_s) + ', sample ' + secs(d.sample_s);\n" \
	"  warnings();\n"

#define JS_PYMALLOC \
	"  [['counters_unavailable', 'arenas allocated total, reclaimed, highwater'], ['table_unavailable',\n" \
	"    'unused pools, arena alignment']].forEach(function (u) {\n" \
	"    if (P[u[0]] !== null) document.getElementById('warnings').appendChild(el('li', 'warn', 'unavailable: ' + u[1] + ': ' + P[u[0]]));\n" \
	"  });\n" \
	"  var sizes = P.classes.map(function (c) { return String(c.block_size); });\n" \
	"  function m(f) { return P.classes.map(function (c, i) { return 'pymalloc.classes.' + i + '.' + f; }); }\n" \
	"  columns(document.getElementById('class-bytes'), sizes, [\n" \
	"    { name: 'bytes in use', color: '#4a7', v: P.classes.map(function (c) { return c.blocks * c.block_size; }), m: m('bytes_in_use') },\n" \
	"    { name: 'bytes available', color: '#9cd', v: P.classes.map(function (c) { return c.avail * c.block_size; }), m: m('bytes_available') }\n" \
	"  ], bytes);\n" \
	"  columns(document.getElementById('class-blocks'), sizes, [\n" \
	"    { name: 'blocks in use', color: '#4a7', v: P.classes.map(function (c) { return c.blocks; }), m: m('blocks') },\n" \
	"    { name: 'available blocks', color: '#9cd', v: P.classes.map(function (c) { return c.avail; }), m: m('avail') }\n" \
	"  ], String);\n" \
	"  var M = d.memory, other = P.arenas_current - F.pinned_arenas - F.empty_arenas;\n" \
	"  bars(document.getElementById('arenas'), [\n" \
	"    { title: 'bytes of ' + P.arenas_current + ' arenas', fmt: bytes, parts: [\n" \
	"      ['allocated blocks', P.bytes_allocated_blocks, 'pymalloc.bytes_allocated_blocks'],\n" \
	"      ['available blocks', P.bytes_available_blocks, 'pymalloc.bytes_available_blocks'],\n" \
	"      ['unused pools', P.bytes_unused_pools, 'pymalloc.bytes_unused_pools'],\n" \
	"      ['pool headers', P.bytes_pool_headers, 'pymalloc.bytes_pool_headers'],\n" \
	"      ['quantization', P.bytes_quantization, 'pymalloc.bytes_quantization'],\n" \
	"      P.bytes_arena_alignment === null ? ['unused pools and alignment', P.bytes_unused_pools_and_alignment,\n" \
	"        'pymalloc.bytes_unused_pools_and_alignment'] : ['arena alignment', P.bytes_arena_alignment, 'pymalloc.bytes_arena_alignment']] },\n" \
	"    { title: 'arenas', parts: [['pinned', F.pinned_arenas, 'fragmentation.pinned_arenas'],\n" \
	"      ['without a live block', F.empty_arenas, 'fragmentation.empty_arenas'], ['others', other, '']] },\n" \
	"    { title: 'resident set', fmt: bytes, parts: [\n" \
	"      ['pymalloc arenas', M.resident_pymalloc_arenas, 'memory.resident_pymalloc_arenas'],\n" \
	"      ['other anonymous', M.resident_other_anon, 'memory.resident_other_anon'],\n" \
	"      ['file-backed', M.resident_file_backed, 'memory.resident_file_backed']] }\n" \
	"  ]);\n" \
	"  sortable(document.getElementById('classes'), [\n" \
	"    ['class', 'Class', 'n'], ['block_size', 'Size', 'n'], ['pools', 'Num pools', 'n'], ['blocks', 'Blocks in use', 'n'],\n" \
	"    ['avail', 'Avail blocks', 'n'], ['used', 'Bytes in use', 'n'], ['free', 'Bytes available', 'n']\n" \
	"  ].map(function (c) {\n" \
	"    return c.concat([function (r) { return num(r[c[0]], c[0] === 'used' || c[0] === 'free' ? '' : 'pymalloc.classes.' + r['class'] + '.' + c[0]); }]);\n" \
	"  }), P.classes.map(function (c) {\n" \
	"    return { 'class': c['class'], block_size: c.block_size, pools: c.pools, blocks: c.blocks, avail: c.avail,\n" \
	"      used: c.blocks * c.block_size, free: c.avail * c.block_size };\n" \
	"  }));\n" \
	"  figures('target', d, '');\n" \
	"  figures('pymalloc', P, 'pymalloc.');\n" \
	"  figures('fragmentation', F, 'fragmentation.');\n"

#define JS_GC_MEMORY \
	"  figures('gcfig', d.gc, 'gc.');\n" \
	"  figures('memory', M, 'memory.');\n" \
	"  var gt = document.getElementById('gen');\n" \
	"  var gcols = ['count', 'threshold', 'collections', 'collected', 'uncollectable'], gh = el('tr');\n" \
	"  ['generation'].concat(gcols).forEach(function (h) { gh.appendChild(el('th', 'n', h)); });\n" \
	"  gt.appendChild(gh);\n" \
	"  d.gc.generations.forEach(function (x, i) {\n" \
	"    var tr = el('tr');\n" \
	"    tr.appendChild(el('td', 'n', String(i)));\n" \
	"    gcols.forEach(function (k) { tr.appendChild(num(x[k], 'gc.generations.' + i + '.' + k)); });\n" \
	"    gt.appendChild(tr);\n" \
	"  });\n"

#define JS_PYMALLOC_DONE \
	"  done(P.classes.length + ' size classes, ' + P.arenas_current + ' arenas, ' + d.gc.generations.length + ' generations');\n"

/* A free-threaded build: mimalloc's classes, one per heap and block size (stats.c put_mimalloc),
 * as columns over the block sizes of every heap, a stack per heap; held pages are those of
 * running threads' heaps (pages less abandoned_pages). The heaps (CPython 3.13t
 * Include/internal/pycore_mimalloc.h): mem for PyMem_Malloc, object for objects without GC, gc
 * and gc_pre for GC objects without and with the pre-header. */
#define JS_MIMALLOC \
	"  var MI = d.mimalloc, M = d.memory, at = {}, sizes = [], avail = 0;\n" \
	"  var shades = { mem: ['#4a7', '#b5dcc4'], object: ['#47a', '#a9c4e0'], gc: ['#b73', '#e8c8a0'], gc_pre: ['#a4a', '#dbb0db'] };\n" \
	"  MI.classes.forEach(function (c, i) {\n" \
	"    (at[c.heap] = at[c.heap] || {})[c.block_size] = i;\n" \
	"    if (sizes.indexOf(c.block_size) < 0) sizes.push(c.block_size);\n" \
	"    avail += c.avail;\n" \
	"  });\n" \
	"  sizes.sort(function (a, b) { return a - b; });\n" \
	"  var heaps = ['mem', 'object', 'gc', 'gc_pre'].filter(function (h) { return at[h]; });\n" \
	"  /* 114688 as 112K: the labels of some 50 columns stay apart */\n" \
	"  var labels = sizes.map(function (n) { return n >= 1024 && n % 1024 === 0 ? n / 1024 + 'K' : String(n); });\n" \
	"  /* A stack per heap: f(class) at each block size, 0 (and no metric) where the heap has none */\n" \
	"  function perHeap(name, shade, f, metric) {\n" \
	"    return heaps.map(function (h) {\n" \
	"      var idx = sizes.map(function (s) { return at[h][s]; });\n" \
	"      return { name: h + ' ' + name, color: shades[h][shade],\n" \
	"        v: idx.map(function (i) { return i === undefined ? 0 : f(MI.classes[i]); }),\n" \
	"        m: idx.map(function (i) { return i === undefined ? '' : 'mimalloc.classes.' + i + '.' + metric; }) };\n" \
	"    });\n" \
	"  }\n" \
	"  columns(document.getElementById('mi-bytes'), labels, perHeap('in use', 0, function (c) { return c.blocks * c.block_size; },\n" \
	"    'bytes_in_use').concat(perHeap('available', 1, function (c) { return c.avail * c.block_size; }, 'bytes_available')), bytes);\n" \
	"  columns(document.getElementById('mi-blocks'), labels, perHeap('in use', 0, function (c) { return c.blocks; }, 'blocks')\n" \
	"    .concat(perHeap('available', 1, function (c) { return c.avail; }, 'avail')), String);\n" \
	"  columns(document.getElementById('mi-pages'), labels, perHeap('held', 0, function (c) { return c.pages - c.abandoned_pages; },\n" \
	"    'held_pages').concat(perHeap('abandoned', 1, function (c) { return c.abandoned_pages; }, 'abandoned_pages')), String);\n" \
	"  bars(document.getElementById('mi-totals'), [\n" \
	"    { title: MI.segments + ' segments', parts: [['of running threads', MI.segments - MI.abandoned_segments, 'mimalloc.held_segments'],\n" \
	"      ['abandoned by exited threads', MI.abandoned_segments, 'mimalloc.abandoned_segments']] },\n" \
	"    { title: 'blocks', parts: [['in use', MI.blocks_in_use, 'mimalloc.blocks_in_use'],\n" \
	"      ['freed by other threads', MI.blocks_freed_by_other_threads, 'mimalloc.blocks_freed_by_other_threads'],\n" \
	"      ['available', avail, 'mimalloc.avail_blocks']] },\n" \
	"    { title: 'resident set', fmt: bytes, parts: [\n" \
	"      ['anonymous (mimalloc segments among it)', M.resident_other_anon, 'memory.resident_other_anon'],\n" \
	"      ['file-backed', M.resident_file_backed, 'memory.resident_file_backed']] }\n" \
	"  ]);\n" \
	"  sortable(document.getElementById('mi-classes'), [\n" \
	"    ['heap', 'Heap', 's'], ['block_size', 'Size', 'n'], ['pages', 'Pages', 'n'], ['abandoned_pages', 'Abandoned pages', 'n'],\n" \
	"    ['blocks', 'Blocks in use', 'n'], ['avail', 'Avail blocks', 'n'], ['used', 'Bytes in use', 'n'], ['free', 'Bytes available', 'n']\n" \
	"  ].map(function (c) {\n" \
	"    return c.concat([function (r) {\n" \
	"      var td = c[2] === 'n' ? num(r[c[0]]) : el('td', 'k', r[c[0]]);\n" \
	"      if (c[0] !== 'used' && c[0] !== 'free') td.dataset.m = 'mimalloc.classes.' + r.i + '.' + c[0];\n" \
	"      return td;\n" \
	"    }]);\n" \
	"  }), MI.classes.map(function (c, i) {\n" \
	"    return { i: i, heap: c.heap, block_size: c.block_size, pages: c.pages, abandoned_pages: c.abandoned_pages,\n" \
	"      blocks: c.blocks, avail: c.avail, used: c.blocks * c.block_size, free: c.avail * c.block_size };\n" \
	"  }));\n" \
	"  figures('target', d, '');\n" \
	"  figures('mimalloc', MI, 'mimalloc.');\n"

#define JS_MIMALLOC_DONE \
	"  done(MI.classes.length + ' mimalloc size classes in ' + heaps.length + ' heaps, ' + MI.segments + ' segments, ' +\n" \
	"    d.gc.generations.length + ' generations');\n"

static const char pymalloc_js[] = JS_COMMON JS_PYMALLOC JS_GC_MEMORY JS_PYMALLOC_DONE;
static const char mimalloc_js[] = JS_COMMON JS_MIMALLOC JS_GC_MEMORY JS_MIMALLOC_DONE;

static const char pymalloc_sections[] =
	"<section>\n<h2>pymalloc's size classes</h2>\n<svg id=\"class-bytes\" role=\"img\"></svg>\n"
	"<svg id=\"class-blocks\" role=\"img\"></svg>\n<table id=\"classes\"></table>\n"
	"<p class=\"hint\">As sys._debugmallocstats() prints them; click a header to sort.</p>\n</section>\n"
	"<section>\n<h2>Arenas</h2>\n<svg id=\"arenas\" role=\"img\"></svg>\n<table id=\"pymalloc\"></table>\n"
	"<h2>Fragmentation</h2>\n<table id=\"fragmentation\"></table>\n"
	"<p class=\"hint\">pymalloc returns an arena to the OS only when all its pools are empty: a few live "
	"blocks pin a whole arena.</p>\n</section>\n";

static const char mimalloc_sections[] =
	"<section>\n<h2>mimalloc's size classes</h2>\n"
	"<p class=\"hint\" id=\"no-pymalloc\">This free-threaded build has no pymalloc (its size classes, arenas and "
	"fragmentation are left out): objects live in mimalloc's heaps, a set per thread.</p>\n"
	"<svg id=\"mi-bytes\" role=\"img\"></svg>\n<svg id=\"mi-blocks\" role=\"img\"></svg>\n"
	"<table id=\"mi-classes\"></table>\n"
	"<p class=\"hint\">Per heap (mem: PyMem_Malloc; object: objects without GC; gc, gc_pre: GC objects "
	"without and with the pre-header) and block size, as the text report lists them; click a header to sort.</p>\n"
	"</section>\n<section>\n<h2>Abandoned pages</h2>\n<svg id=\"mi-pages\" role=\"img\"></svg>\n"
	"<p class=\"hint\">A thread that exits abandons its pages, live blocks and all, until another thread claims "
	"them.</p>\n<svg id=\"mi-totals\" role=\"img\"></svg>\n<table id=\"mimalloc\"></table>\n</section>\n";

static int write_json(FILE *out, const void *st, struct pc_err *e)
{
	return report_stats_json(out, st, e);
}

int report_stats_html(FILE *out, const struct stats *st, struct pc_err *e)
{
	html_put_head(out, "stats", &st->meta);
	fputs(st->mi ? mimalloc_sections : pymalloc_sections, out);
	fputs("<section>\n<h2>GC</h2>\n<table id=\"gen\"></table>\n<table id=\"gcfig\"></table>\n</section>\n"
	      "<section>\n<h2>Process memory</h2>\n<table id=\"memory\"></table>\n</section>\n"
	      "<section>\n<h2>Sample</h2>\n<table id=\"target\"></table>\n</section>\n",
	      out);
	return html_put_end(out, write_json, st, st->mi ? mimalloc_js : pymalloc_js, e);
}

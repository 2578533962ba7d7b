/* serve_http.h: the HTTP side of `pycensus serve`: a listening socket pycensus binds itself (so a
 * failure names its cause) served by libmicrohttpd on its own thread. /metrics answers the last
 * exposition the census loop published (Prometheus text or OpenMetrics, as the Accept header asks),
 * / a short index, anything else 404. A request only copies
 * text under a lock: it never touches a target, so scrapes cannot pause one. */
#ifndef PC_SERVE_HTTP_H
#define PC_SERVE_HTTP_H

#include "common/compat.h"
#include <stddef.h>
#include "common/error.h"

struct serve_http;

/* Binds and listens on ADDR:PORT ("127.0.0.1:9464", "[::1]:9464", "localhost:0"; port 0 picks a
 * free one) and starts answering. SIGINT, SIGTERM, SIGHUP and SIGPIPE are blocked in the server's
 * thread, so they reach the census loop. Errors: USAGE (not ADDR:PORT), LISTEN (bind or listen
 * failed: in use, not this host's address, a privileged port). */
struct serve_http *serve_http_start(const char *listen, struct pc_err *e);
/* The address as bound, port 0 resolved: "127.0.0.1:9464". */
const char *serve_http_address(const struct serve_http *h);
/* What /metrics, / and /debug/pprof/heap answer from now on (all copied, swapped in at once): the
 * exposition in Prometheus's text format, and in OpenMetrics for a request whose Accept header
 * prefers it (report/prom.h prom_accepts_openmetrics); a few plain lines for the index (escaped
 * there); a gzipped pprof profile. */
struct serve_pages {
	const char *metrics, *openmetrics, *summary;
	size_t metrics_len, openmetrics_len;
	const void *pprof;
	size_t pprof_len;
};
void serve_http_publish(struct serve_http *h, const struct serve_pages *p);
/* Stops answering, waits for the server's thread, closes the socket. Accepts NULL. */
void serve_http_stop(struct serve_http *h);

#endif

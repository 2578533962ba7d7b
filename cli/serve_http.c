/* serve_http.c: the HTTP side of `pycensus serve` (serve_http.h): our own listening socket,
 * libmicrohttpd's thread answering /metrics and / from text published under a lock. */
#include "common/compat.h"
#include "cli/serve_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/xalloc.h"
#include "report/prom.h"

struct serve_http {
	int fd;
	struct MHD_Daemon *d;
	char address[128];
	pthread_mutex_t lock;  /* guards what follows */
	char *metrics, *openmetrics, *index, *pprof;
	size_t metrics_len, openmetrics_len, index_len, pprof_len;
};

enum published { PUB_INDEX, PUB_METRICS, PUB_OPENMETRICS, PUB_PPROF };

/* Splits "HOST:PORT" or "[V6]:PORT" into host and port (each terminated, within buf). */
static int split_address(const char *s, char *buf, size_t len, char **host, char **port, struct pc_err *e)
{
	char *colon;

	if (snprintf(buf, len, "%s", s) >= (int)len || !(colon = strrchr(buf, ':')) || colon == buf || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535)
		return pc_fail(e, PC_EUSAGE, "--listen needs ADDRESS:PORT (127.0.0.1:9464, [::1]:9464), not '%s'", s);
	*colon = '\0';
	*port = colon + 1;
	*host = buf;
	if (buf[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		*host = buf + 1;
	}
	return 0;
}

/* Why bind or listen failed, in words, from errno. */
static const char *listen_why(int err)
{
	switch (err) {
	case EADDRINUSE: return "the port is in use by another program";
	case EADDRNOTAVAIL: return "the address is not one of this host's";
	case EACCES: return "a port below 1024 needs root or CAP_NET_BIND_SERVICE";
	default: return strerror(err);
	}
}

static int open_socket(struct serve_http *h, const char *listen_at, struct pc_err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char buf[256], *host = NULL, *port = NULL, hbuf[96], pbuf[16];
	int one = 1, rc;

	if (split_address(listen_at, buf, sizeof buf, &host, &port, e) < 0)
		return -1;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		return pc_fail(e, PC_ELISTEN, "cannot listen on %s: %s", listen_at, gai_strerror(rc));
	h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(h->fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(h->fd, 64) < 0) {
		freeaddrinfo(ai);
		return pc_fail(e, PC_ELISTEN, "cannot listen on %s: %s", listen_at, listen_why(errno));
	}
	freeaddrinfo(ai);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof hbuf, pbuf, sizeof pbuf, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(h->address, sizeof h->address, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", hbuf, pbuf);
	else
		snprintf(h->address, sizeof h->address, "%s", listen_at);
	return 0;
}

static struct MHD_Response *text_response(const char *text, size_t len)
{
#if MHD_VERSION >= 0x00097701
	return MHD_create_response_from_buffer_copy(len, text);
#else
	return MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
#endif
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *text,
			     size_t len)
{
	struct MHD_Response *r = text_response(text, len);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* A copy of what was published, taken under the lock, answered outside it. */
static enum MHD_Result reply_published(struct serve_http *h, struct MHD_Connection *conn, enum published what)
{
	static const char *const types[] = { "text/html; charset=utf-8", PROM_CONTENT_TYPE, PROM_OPENMETRICS_TYPE,
					     "application/octet-stream" };
	enum MHD_Result rc;
	char *copy;
	size_t len;

	pthread_mutex_lock(&h->lock);
	const struct { const char *text; size_t len; } pub[] = {
		{ h->index, h->index_len }, { h->metrics, h->metrics_len },
		{ h->openmetrics, h->openmetrics_len }, { h->pprof, h->pprof_len },
	};
	len = pub[what].len;
	copy = xmalloc(len + 1);
	if (len)
		memcpy(copy, pub[what].text, len);
	pthread_mutex_unlock(&h->lock);
	rc = reply(conn, MHD_HTTP_OK, types[what], copy, len);
	free(copy);
	return rc;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **state)
{
	static const char not_allowed[] = "405 method not allowed: pycensus serve answers GET and HEAD\n";
	static const char not_found[] = "404 not found: pycensus serve answers /, /metrics and /debug/pprof/heap\n";

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", not_allowed,
			     sizeof not_allowed - 1);
	if (strcmp(url, "/metrics") == 0)
		return reply_published(cls, conn,
				       prom_accepts_openmetrics(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept"))
					       ? PUB_OPENMETRICS : PUB_METRICS);
	if (strcmp(url, "/debug/pprof/heap") == 0)
		return reply_published(cls, conn, PUB_PPROF);
	if (strcmp(url, "/") == 0)
		return reply_published(cls, conn, PUB_INDEX);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", not_found, sizeof not_found - 1);
}

struct serve_http *serve_http_start(const char *listen_at, struct pc_err *e)
{
	struct serve_http *h = xcalloc(1, sizeof *h);
	sigset_t block, old;

	h->fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	h->metrics = xstrdup("");
	h->openmetrics = xstrdup("");
	h->index = xstrdup("");
	if (open_socket(h, listen_at, e) < 0) {
		serve_http_stop(h);
		return NULL;
	}
	/* the server's thread inherits this mask: the signals are the census loop's to take */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	h->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, answer, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d) {
		pc_fail(e, PC_ELISTEN, "cannot serve on %s: libmicrohttpd did not start", h->address);
		serve_http_stop(h);
		return NULL;
	}
	h->fd = -1; /* the daemon's now: MHD_stop_daemon closes it */
	return h;
}

const char *serve_http_address(const struct serve_http *h)
{
	return h->address;
}

/* The index page: a link to /metrics and the summary lines, HTML-escaped. */
static char *index_page(const char *summary, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		PC_BUG("open_memstream");
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pycensus serve</title></head><body>\n"
	      "<h1>pycensus serve</h1>\n<p><a href=\"/metrics\">/metrics</a>: the last census of each process, in "
	      "Prometheus's text format, or OpenMetrics when the request's Accept header asks for it.</p>\n<pre>\n", f);
	for (const char *p = summary; *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*p, f);
		}
	}
	fputs("</pre>\n</body></html>\n", f);
	fclose(f);
	return buf;
}

static char *copy_of(const void *v, size_t len)
{
	char *c = xmalloc(len + 1);

	if (len)
		memcpy(c, v, len);
	c[len] = '\0';
	return c;
}

static void swap(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

void serve_http_publish(struct serve_http *h, const struct serve_pages *p)
{
	char *m = copy_of(p->metrics, p->metrics_len), *om = copy_of(p->openmetrics, p->openmetrics_len);
	char *prof = copy_of(p->pprof, p->pprof_len), *idx;
	size_t idx_len;

	idx = index_page(p->summary, &idx_len);
	pthread_mutex_lock(&h->lock);
	swap(&h->metrics, &m);
	swap(&h->openmetrics, &om);
	swap(&h->index, &idx);
	swap(&h->pprof, &prof);
	h->metrics_len = p->metrics_len;
	h->openmetrics_len = p->openmetrics_len;
	h->index_len = idx_len;
	h->pprof_len = p->pprof_len;
	pthread_mutex_unlock(&h->lock);
	free(m); /* the old pages, swapped out */
	free(om);
	free(idx);
	free(prof);
}

void serve_http_stop(struct serve_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->lock);
	free(h->metrics);
	free(h->openmetrics);
	free(h->index);
	free(h->pprof);
	free(h);
}

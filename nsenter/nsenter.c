/*
 * The part of `husk init` that must run before the Go runtime starts (see nsenter.go).
 *
 * Protocol on the init socket (fd in $_HUSK_INITPIPE, SOCK_STREAM). Every message is framed as
 * a 4-byte little-endian length followed by that many bytes; messages from this code are JSON.
 *
 *   husk parent                                   husk init (this code, single-threaded)
 *       │── bootstrap: text lines ─────────────────►│ parse; open every "join" path first
 *       │      "clone <flags>"                      │ setns() each, in order, but a user
 *       │      "join <nstype> <path>" ...           │   namespace last: with the host's
 *       │      "timeoffsets" (when there are some)  │   privileges for the others, which it
 *       │      "rootless" (husk is not the host's   │   may not own (rootless: first, its
 *       │       root: see ask_parent)               │   privileges are there); setresuid(0)
 *       │                                           │ unshare(CLONE_NEWUSER) if asked
 *       │◄── {"type":"usermap","pid":N} ────────────│   and wait for the id maps
 *       │  writes /proc/N/{uid,gid}_map             │
 *       │── any message (ack) ─────────────────────►│ setresuid/gid(0) inside the new userns
 *       │                                           │ unshare(CLONE_NEWTIME)
 *       │◄── {"type":"timeoffsets","pid":N} ────────│   (with "timeoffsets")
 *       │  writes /proc/N/timens_offsets (as the    │
 *       │  host's root: in a user namespace the     │
 *       │  non-dumpable init cannot open its own)   │
 *       │── any message (ack) ─────────────────────►│ unshare(the other new namespaces)
 *       │                                           │ clone(CLONE_PARENT) when a pid or time
 *       │                                           │   namespace must take effect
 *       │◄── {"type":"pid","pid":M} ────────────────│ (from the process that stays behind;
 *       │                                           │  it exits at once)
 *       │                                           ▼
 *       │                                Go runtime starts in process M, in every namespace,
 *       │                                and speaks the Go protocol (libcontainer/sync.go).
 *   On any failure: {"type":"error","msg":"..."} and exit(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#define MAX_BOOTSTRAP (1 << 20)

static int sync_fd = -1;
/* The parent is not the host's root ("rootless" in the bootstrap). */
static int parent_rootless = 0;

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void send_msg(const char *json)
{
	uint32_t len = (uint32_t)strlen(json);
	unsigned char hdr[4] = { len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, (len >> 24) & 0xff };
	if (write_all(sync_fd, hdr, 4) < 0 || write_all(sync_fd, json, len) < 0)
		_exit(1);
}

/* Reads one framed message into a malloc'd NUL-terminated buffer. */
static char *recv_msg(void)
{
	unsigned char hdr[4];
	if (read_all(sync_fd, hdr, 4) < 0)
		return NULL;
	uint32_t len = hdr[0] | (hdr[1] << 8) | (hdr[2] << 16) | ((uint32_t)hdr[3] << 24);
	if (len > MAX_BOOTSTRAP)
		return NULL;
	char *buf = malloc(len + 1);
	if (buf == NULL)
		return NULL;
	if (read_all(sync_fd, buf, len) < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Sends {"type":"error","msg":...} with the text JSON-escaped, and exits. */
static void __attribute__((noreturn, format(printf, 1, 2))) bail(const char *fmt, ...)
{
	int saved = errno;
	char text[4096], json[9000];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(text) - 64 && saved != 0)
		snprintf(text + n, sizeof(text) - (size_t)n, ": %s", strerror(saved));

	char *o = json;
	o += sprintf(o, "{\"type\":\"error\",\"msg\":\"nsenter: ");
	for (const char *s = text; *s && o < json + sizeof(json) - 16; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			o += sprintf(o, "\\%c", c);
		else if (c < 0x20)
			o += sprintf(o, "\\u%04x", c);
		else
			*o++ = (char)c;
	}
	sprintf(o, "\"}");
	if (sync_fd >= 0)
		send_msg(json);
	_exit(1);
}

static const char *nstype_name(long t)
{
	switch (t) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "unknown";
}

#define MAX_JOINS 16

struct join {
	long type;
	const char *path;
	int fd;
};

static void join_ns(const struct join *j)
{
	if (setns(j->fd, (int)j->type) < 0)
		bail("setns %s namespace %s", nstype_name(j->type), j->path);
	close(j->fd);
}

/* Joins a user namespace and becomes its root, as a new user namespace's init becomes: uid 0
 * of the host maps to nothing there, and files it created would fail with EOVERFLOW. */
static void join_user_ns(const struct join *j)
{
	join_ns(j);
	if (setresgid(0, 0, 0) < 0)
		bail("setresgid 0 in the user namespace %s (does it map gid 0?)", j->path);
	if (setresuid(0, 0, 0) < 0)
		bail("setresuid 0 in the user namespace %s (does it map uid 0?)", j->path);
}

/*
 * Joins the namespaces, all opened first: a path may not resolve any more once the mount
 * namespace is joined. A user namespace comes last. Before it, this process has the host's
 * privileges, which joining any namespace takes; inside it, only over what that namespace
 * owns (a network namespace made outside it could not be joined any more).
 */
static void join_namespaces(struct join *joins, int n)
{
	for (int i = 0; i < n; i++) {
		joins[i].fd = open(joins[i].path, O_RDONLY | O_CLOEXEC);
		if (joins[i].fd < 0)
			bail("open %s namespace %s", nstype_name(joins[i].type), joins[i].path);
	}
	int user = -1;
	for (int i = 0; i < n; i++)
		if (joins[i].type == CLONE_NEWUSER)
			user = i;
	/* Rootless (husk run by an unprivileged user), its privileges over the container's
	 * namespaces come from their user namespace only: that one is joined first. */
	int user_first = user >= 0 && parent_rootless;
	if (user_first)
		join_user_ns(&joins[user]);
	for (int i = 0; i < n; i++)
		if (i != user)
			join_ns(&joins[i]);
	if (user >= 0 && !user_first)
		join_user_ns(&joins[user]);
}

/* Asks the parent to do something to this process from outside and waits until it has.
 * An unprivileged parent (rootless) can open this process's /proc files only while it is
 * dumpable (or newuidmap, which checks the owner of /proc/<pid>): dumpable for the moment,
 * and only to the same user, who owns the parent anyway. */
static void ask_parent(const char *type)
{
	if (parent_rootless && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		bail("prctl(PR_SET_DUMPABLE, 1)");
	char msg[64];
	snprintf(msg, sizeof(msg), "{\"type\":\"%s\",\"pid\":%d}", type, getpid());
	send_msg(msg);
	char *ack = recv_msg();
	if (ack == NULL)
		bail("wait for the parent (%s)", type);
	free(ack);
	if (parent_rootless && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail("prctl(PR_SET_DUMPABLE, 0)");
}

void husk_nsenter(void)
{
	const char *env = getenv("_HUSK_INITPIPE");
	if (env == NULL)
		return;
	sync_fd = atoi(env);
	if (sync_fd < 3)
		bail("bad _HUSK_INITPIPE %s", env);
	/*
	 * Until it execs the workload, nothing in the container may ptrace the init or open its
	 * /proc files (fds, memory, environ): it holds runtime state. execve makes the workload
	 * dumpable again.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail("prctl(PR_SET_DUMPABLE, 0)");

	char *boot = recv_msg();
	if (boot == NULL)
		bail("read bootstrap message");

	long clone_flags = 0;
	int forks = 0; /* a joined pid or time namespace applies to children only */
	int time_offsets = 0;
	struct join joins[MAX_JOINS];
	int njoins = 0;

	for (char *line = strtok(boot, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "clone ", 6) == 0) {
			clone_flags = strtol(line + 6, NULL, 10);
		} else if (strncmp(line, "join ", 5) == 0) {
			char *end;
			long type = strtol(line + 5, &end, 10);
			if (*end != ' ')
				bail("bad bootstrap line \"%s\"", line);
			if (njoins == MAX_JOINS)
				bail("too many namespaces to join");
			joins[njoins++] = (struct join){ .type = type, .path = end + 1, .fd = -1 };
			if (type == CLONE_NEWPID || type == CLONE_NEWTIME)
				forks = 1;
		} else if (strcmp(line, "timeoffsets") == 0) {
			time_offsets = 1;
		} else if (strcmp(line, "rootless") == 0) {
			parent_rootless = 1;
		} else {
			bail("unknown bootstrap line \"%s\"", line);
		}
	}
	join_namespaces(joins, njoins);
	free(boot); /* the join paths pointed into it */

	if (clone_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			bail("unshare user namespace");
		ask_parent("usermap");
		if (setresgid(0, 0, 0) < 0)
			bail("setresgid 0 in the new user namespace");
		if (setresuid(0, 0, 0) < 0)
			bail("setresuid 0 in the new user namespace");
	}
	if (clone_flags & CLONE_NEWTIME) {
		if (unshare(CLONE_NEWTIME) < 0)
			bail("unshare time namespace");
		/* Offsets can only be set before a process enters the namespace: before the clone. */
		if (time_offsets)
			ask_parent("timeoffsets");
		forks = 1;
	}
	long rest = clone_flags & ~(CLONE_NEWUSER | CLONE_NEWTIME);
	if (rest != 0 && unshare((int)rest) < 0)
		bail("unshare namespaces 0x%lx", rest);
	if (clone_flags & CLONE_NEWPID)
		forks = 1;

	pid_t pid = getpid();
	if (forks) {
		/* CLONE_PARENT: the init becomes a child of the husk parent, which can wait for it. */
		pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (pid < 0)
			bail("clone into the new pid namespace");
		if (pid > 0) {
			char msg[64];
			snprintf(msg, sizeof(msg), "{\"type\":\"pid\",\"pid\":%d}", pid);
			send_msg(msg);
			_exit(0);
		}
		return; /* the init: on to the Go runtime */
	}
	char msg[64];
	snprintf(msg, sizeof(msg), "{\"type\":\"pid\",\"pid\":%d}", pid);
	send_msg(msg);
}

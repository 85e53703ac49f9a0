// corral-sandbox-init: PID 1 of a Corral sandbox (docs/internals.md,
// "Processes of one instance").
//
// The launcher (corral-sandbox run, Go) clones this program into the
// sandbox's new namespaces with its end of the launcher's channel as fd 3.
// It takes from itself the privileges nothing inside may keep, waits for the
// launcher's release (what the launcher compiled from the spec, with the
// mount sources it opened), builds the root, hardens itself and starts the
// plugin, then reaps until the plugin has exited and reports how it ended.
//
// It is C, single-threaded and static, rather than a second Go program,
// because it sits on every sandbox start's critical path: a Go runtime takes
// a millisecond or two to come up, and the per-thread state the plugin must
// inherit (bounding set, securebits, no_new_privs) would have to be set on
// each of the runtime's threads, some 45 stop-the-world rounds. Here each is
// one system call, and the launcher has done all the deciding: the release
// holds no JSON, only what to do (release layout below, launcher side in
// sandbox/cmd/corral-sandbox/release.go).
//
// Reports to the launcher are JSON messages in the shapes of the launcher
// events: {"type":"started","pid":N} (with the plugin's pid as
// SCM_CREDENTIALS), {"type":"exited","code":N} or {"type":"exited","signal":
// "SIGx"}, and {"type":"error","stage":S,"message":M}.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

// The channel to the launcher (channel.go's initChannelFd).
#define CHANNEL_FD 3
// Exit status when the sandbox could not be set up.
#define SETUP_FAILED 125

// The release: "CRL1", then little-endian fields, strings as a u32 length
// (NUL included) and the bytes with their NUL:
//   u32 flags (RELEASE_*), u64 workspace bytes, u64 nofile, u64 nproc,
//   u64 fsize, str hostname, u32 argc + argc str (argv, "/plugin" first),
//   u32 envc + envc str ("NAME=value"), u32 mounts + per mount: str target
//   (inside the sandbox), u32 mode (S_IFREG, S_IFDIR, or 0: the source's),
//   u32 tasks, u32 filter length + that many struct sock_filter (8 bytes
//   each).
// The mount sources' fds come with it as SCM_RIGHTS, one per mount, in
// order, then "tasks" fds of cgroup v1 tasks files the init is to move
// itself into (an init cloned before its ids were known; the launcher opened
// them, so they carry its permission).
#define RELEASE_MAGIC 0x314c5243u // "CRL1"
#define RELEASE_NEW_NETWORK 1u     // the init has a network namespace of its own: bring lo up
#define RELEASE_INHERIT_STDIN 2u   // the plugin's stdin is the init's, not /dev/null
#define MAX_RELEASE (256 * 1024)
#define MAX_MOUNTS (2 + 64) // binary, instance directory, grants (spec.go's maxGrants)
#define MAX_TASKS 16
#define MAX_FDS (MAX_MOUNTS + MAX_TASKS)
#define MAX_LIST 65536

#define PLUGIN_PATH "/plugin"
// The new root is assembled on a tmpfs mounted over /tmp, in the host's
// tree as the init's mount namespace copied it (its mounts are slaves: the
// host sees none of this), then made the root with one pivot_root, the
// host's tree detached. (bubblewrap first pivots into a scratch tmpfs and
// builds beneath it: a second pivot_root, which walks every thread on the
// host, for nothing here, where the sources come as fds.)
#define NEW_ROOT "/tmp"

struct mount_item {
	const char *target;
	uint32_t mode;
	int fd;
};

struct release {
	uint32_t flags;
	uint64_t workspace, nofile, nproc, fsize;
	const char *hostname;
	char **argv;
	char **envp;
	uint32_t nmounts;
	struct mount_item mounts[MAX_MOUNTS];
	uint32_t ntasks;
	int tasks[MAX_TASKS];
	struct sock_fprog filter;
};

static int tracing;
// front_started: the init was forked by the launcher's front, and says hello.
static int front_started;

static void trace(const char *step) {
	if (!tracing) return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char line[128];
	int n = snprintf(line, sizeof line, "corral-sandbox trace init %s %lld\n", step,
	                 (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if (n > 0) (void)!write(2, line, (size_t)n);
}

// ---- errors ---------------------------------------------------------------

// The first failure of a stage, as Go would word it: "what: errno text".
static char errbuf[1024];

// errno_text is strerror in Go's words: lower case.
static const char *errno_text(int e) {
	static char buf[128];
	snprintf(buf, sizeof buf, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z')) buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

// fail records "message: errno text" and returns -1.
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...) {
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof errbuf) snprintf(errbuf + n, sizeof errbuf - (size_t)n, ": %s", errno_text(e));
	return -1;
}

// failf records a message without an errno and returns -1.
__attribute__((format(printf, 1, 2))) static int failf(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	return -1;
}

// ---- the channel ----------------------------------------------------------

static int send_msg(const char *data, size_t len, const void *control, size_t control_len) {
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = (void *)control, .msg_controllen = control_len};
	for (;;) {
		if (sendmsg(CHANNEL_FD, &msg, MSG_NOSIGNAL) >= 0) return 0;
		if (errno != EINTR) return -1;
	}
}

// json_string appends s to out as a JSON string.
static size_t json_string(char *out, size_t cap, size_t at, const char *s) {
	static const char hex[] = "0123456789abcdef";
	if (at < cap) out[at] = '"';
	at++;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		size_t n = 0;
		if (*p == '"' || *p == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)*p;
		} else if (*p < 0x20) {
			esc[n++] = '\\';
			esc[n++] = 'u';
			esc[n++] = '0';
			esc[n++] = '0';
			esc[n++] = hex[*p >> 4];
			esc[n++] = hex[*p & 15];
		} else {
			esc[n++] = (char)*p;
		}
		for (size_t i = 0; i < n; i++, at++)
			if (at < cap) out[at] = esc[i];
	}
	if (at < cap) out[at] = '"';
	return at + 1;
}

static void send_error(const char *stage, const char *message) {
	char buf[4096];
	size_t at = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"error\",\"stage\":");
	at = json_string(buf, sizeof buf, at, stage);
	const char *mid = ",\"message\":";
	for (const char *p = mid; *p; p++, at++)
		if (at < sizeof buf) buf[at] = *p;
	at = json_string(buf, sizeof buf, at, message);
	if (at < sizeof buf) buf[at] = '}';
	at++;
	if (at > sizeof buf) return; // cannot happen: messages are bounded well below
	(void)send_msg(buf, at, NULL, 0);
}

// send_started reports the plugin's pid, also as the message's credentials,
// which the kernel translates into the launcher's pid namespace. Passing
// another process's pid needs CAP_SYS_ADMIN, which the init still has.
static int send_started(pid_t plugin) {
	char buf[64];
	int n = snprintf(buf, sizeof buf, "{\"type\":\"started\",\"pid\":%d}", (int)plugin);
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct cmsghdr *cm = (struct cmsghdr *)control.buf;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred cred = {.pid = plugin, .uid = getuid(), .gid = getgid()};
	memcpy(CMSG_DATA(cm), &cred, sizeof cred);
	return send_msg(buf, (size_t)n, control.buf, sizeof control.buf);
}

static const char *const signal_names[] = {
    [SIGHUP] = "SIGHUP",     [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT",     [SIGILL] = "SIGILL",
    [SIGTRAP] = "SIGTRAP",   [SIGABRT] = "SIGABRT",     [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",
    [SIGKILL] = "SIGKILL",   [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV",     [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE",   [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM",     [SIGSTKFLT] = "SIGSTKFLT",
    [SIGCHLD] = "SIGCHLD",   [SIGCONT] = "SIGCONT",     [SIGSTOP] = "SIGSTOP",     [SIGTSTP] = "SIGTSTP",
    [SIGTTIN] = "SIGTTIN",   [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ",   [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",     [SIGWINCH] = "SIGWINCH",
    [SIGIO] = "SIGIO",       [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
};

static void send_exited(int status) {
	char buf[96];
	int n;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig > 0 && sig < (int)(sizeof signal_names / sizeof signal_names[0]) && signal_names[sig])
			n = snprintf(buf, sizeof buf, "{\"type\":\"exited\",\"signal\":\"%s\"}", signal_names[sig]);
		else
			n = snprintf(buf, sizeof buf, "{\"type\":\"exited\",\"signal\":\"SIGRTMIN+%d\"}", sig - SIGRTMIN);
	} else {
		n = snprintf(buf, sizeof buf, "{\"type\":\"exited\",\"code\":%d}", WEXITSTATUS(status));
	}
	(void)send_msg(buf, (size_t)n, NULL, 0);
}

// ---- the release ----------------------------------------------------------

static char release_buf[MAX_RELEASE + 1];

struct reader {
	const char *p, *end;
	int bad;
};

static uint32_t read_u32(struct reader *r) {
	uint32_t v = 0;
	if (r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}

static uint64_t read_u64(struct reader *r) {
	uint64_t v = 0;
	if (r->end - r->p < 8) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, 8);
	r->p += 8;
	return v;
}

// read_str returns a NUL-terminated string of the message; "" if malformed.
static const char *read_str(struct reader *r) {
	uint32_t n = read_u32(r);
	if (r->bad || n == 0 || (uint64_t)(r->end - r->p) < n || r->p[n - 1] != '\0' || memchr(r->p, '\0', n - 1)) {
		r->bad = 1;
		return "";
	}
	const char *s = r->p;
	r->p += n;
	return s;
}

static char **read_list(struct reader *r) {
	uint32_t n = read_u32(r);
	if (r->bad || n > MAX_LIST) {
		r->bad = 1;
		return NULL;
	}
	char **list = calloc((size_t)n + 1, sizeof *list);
	if (!list) {
		r->bad = 1;
		return NULL;
	}
	for (uint32_t i = 0; i < n && !r->bad; i++) list[i] = (char *)read_str(r);
	return list;
}

static void close_fds(const int *fds, int n) {
	for (int i = 0; i < n; i++) close(fds[i]);
}

// receive_release waits for the launcher's release. It returns 0, or -1
// with errbuf set (a bad release), or -2 when the launcher closed the
// channel (it is gone: nothing to report to).
static int receive_release(struct release *rel) {
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = release_buf, .iov_len = sizeof release_buf};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
	ssize_t n;
	do n = recvmsg(CHANNEL_FD, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) return -2;
	int fds[MAX_FDS];
	int nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
		int count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + (size_t)i * sizeof(int), sizeof fd);
			if (nfds < MAX_FDS)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0 && nfds == 0) return -2;
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || n > MAX_RELEASE) {
		close_fds(fds, nfds);
		return failf("receive message: bad message: longer than %d bytes or more than %d fds", MAX_RELEASE, MAX_FDS);
	}

	struct reader r = {.p = release_buf, .end = release_buf + n};
	if (read_u32(&r) != RELEASE_MAGIC) {
		close_fds(fds, nfds);
		return failf("decode release: not a release of this version");
	}
	rel->flags = read_u32(&r);
	rel->workspace = read_u64(&r);
	rel->nofile = read_u64(&r);
	rel->nproc = read_u64(&r);
	rel->fsize = read_u64(&r);
	rel->hostname = read_str(&r);
	rel->argv = read_list(&r);
	rel->envp = read_list(&r);
	rel->nmounts = read_u32(&r);
	if (rel->nmounts > MAX_MOUNTS) r.bad = 1;
	for (uint32_t i = 0; i < rel->nmounts && !r.bad; i++) {
		rel->mounts[i].target = read_str(&r);
		rel->mounts[i].mode = read_u32(&r);
		rel->mounts[i].fd = -1;
	}
	rel->ntasks = read_u32(&r);
	if (rel->ntasks > MAX_TASKS) r.bad = 1;
	uint32_t len = read_u32(&r);
	if (!r.bad && (len == 0 || len > BPF_MAXINSNS || (uint64_t)(r.end - r.p) != (uint64_t)len * sizeof(struct sock_filter))) r.bad = 1;
	if (!r.bad) {
		rel->filter.len = (unsigned short)len;
		rel->filter.filter = malloc((size_t)len * sizeof(struct sock_filter));
		if (!rel->filter.filter)
			r.bad = 1;
		else
			memcpy(rel->filter.filter, r.p, (size_t)len * sizeof(struct sock_filter));
	}
	if (r.bad || !rel->argv || !rel->argv[0]) {
		close_fds(fds, nfds);
		return failf("decode release: malformed");
	}
	if ((uint32_t)nfds != rel->nmounts + rel->ntasks) {
		close_fds(fds, nfds);
		return failf("%d fds came with the spec, want %u mount sources and %u tasks files", nfds, rel->nmounts, rel->ntasks);
	}
	for (uint32_t i = 0; i < rel->nmounts; i++) rel->mounts[i].fd = fds[i];
	for (uint32_t i = 0; i < rel->ntasks; i++) rel->tasks[i] = fds[rel->nmounts + i];
	return 0;
}

static void close_sources(struct release *rel) {
	for (uint32_t i = 0; i < rel->nmounts; i++)
		if (rel->mounts[i].fd >= 0) {
			close(rel->mounts[i].fd);
			rel->mounts[i].fd = -1;
		}
	for (uint32_t i = 0; i < rel->ntasks; i++)
		if (rel->tasks[i] >= 0) {
			close(rel->tasks[i]);
			rel->tasks[i] = -1;
		}
}

// take_ids makes the init root of its user namespace: it is already for an
// init cloned with its ids mapped; one cloned before (startUnmapped in the
// launcher) still has the launcher's, unmapped there, which the launcher
// has mapped by now.
//
// The kernel resets the parent-death signal and the dumpable flag when a
// process's ids change, so both are set again; a launcher that died before
// the parent-death signal was back is found by its end of the channel.
static int take_ids(void) {
	if (setresgid(0, 0, 0) != 0) return fail("setresgid 0");
	if (setresuid(0, 0, 0) != 0) return fail("setresuid 0");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return fail("set the parent-death signal");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return fail("make the init non-dumpable");
	struct pollfd pfd = {.fd = CHANNEL_FD, .events = POLLRDHUP};
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) _exit(SETUP_FAILED); // the launcher is gone
	return 0;
}

// place_self moves the init, which is one thread, into the instance's v1
// cgroups: "0" written to a tasks file moves the writing thread. The fds
// are closed whatever happens.
static int place_self(struct release *rel) {
	int r = 0;
	for (uint32_t i = 0; i < rel->ntasks; i++) {
		if (r == 0 && write(rel->tasks[i], "0", 1) != 1) r = fail("move into the instance cgroup (tasks file %u of %u)", i + 1, rel->ntasks);
		close(rel->tasks[i]);
		rel->tasks[i] = -1;
	}
	return r;
}

// ---- privileges -----------------------------------------------------------

// Securebits that take root's special treatment away for good (harden.go
// in the launcher's history; linux/securebits.h).
#define LOCKED_SECUREBITS ((1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7))

// set_capabilities sets the inheritable capabilities to none and, unless
// keep_permitted, the permitted and effective ones too.
static int set_capabilities(int keep_permitted) {
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (keep_permitted && syscall(SYS_capget, &hdr, data) != 0) return fail("capget");
	data[0].inheritable = data[1].inheritable = 0;
	hdr.pid = 0;
	if (syscall(SYS_capset, &hdr, data) != 0) return fail("capset");
	return 0;
}

// drop_privileges takes from the init every privilege the plugin must not
// inherit and setting up the sandbox does not need: no_new_privs, an empty
// bounding set, locked securebits, no inheritable or ambient capabilities.
// Effective capabilities stay for the setup; the init is one thread, so
// each setting holds for the fork of the plugin.
static int drop_privileges(void) {
	// A dumpable init could be read and written through /proc/1/mem by the
	// plugin, which has its uid, once the init's capabilities are gone.
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return fail("make the init non-dumpable");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("set no_new_privs");
	for (unsigned long c = 0;; c++) {
		// EINVAL past the kernel's last capability.
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0 && errno == EINVAL) break;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) return fail("drop capability %lu from the bounding set", c);
	}
	if (prctl(PR_SET_SECUREBITS, LOCKED_SECUREBITS, 0, 0, 0) != 0) return fail("lock securebits");
	if (set_capabilities(1) != 0) {
		char inner[sizeof errbuf + 64];
		snprintf(inner, sizeof inner, "%s", errbuf);
		return failf("clear inheritable capabilities: %s", inner);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return fail("clear ambient capabilities");
	return 0;
}

// ---- the root -------------------------------------------------------------

static int mkdir_all(const char *path, mode_t mode) {
	char buf[4096];
	size_t len = strlen(path);
	if (len >= sizeof buf) return failf("mkdir %s: path too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/') continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST) return fail("mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST) return fail("mkdir %s", buf);
	return 0;
}

static int mount_fresh(const char *source, const char *dir, const char *fstype, unsigned long flags, const char *opts) {
	if (mkdir_all(dir, 0755) != 0) return -1;
	if (mount(source, dir, fstype, flags, opts) != 0) return fail("mount %s at %s", fstype, dir);
	return 0;
}

static unsigned long locked_flags(unsigned long st) {
	unsigned long ms = 0;
	if (st & ST_RDONLY) ms |= MS_RDONLY;
	if (st & ST_NOSUID) ms |= MS_NOSUID;
	if (st & ST_NODEV) ms |= MS_NODEV;
	if (st & ST_NOEXEC) ms |= MS_NOEXEC;
	if (st & ST_NOATIME) ms |= MS_NOATIME;
	if (st & ST_NODIRATIME) ms |= MS_NODIRATIME;
	if (st & ST_RELATIME) ms |= MS_RELATIME;
	return ms;
}

// bind_mount binds src at dst (with the mounts beneath it: in a user namespace a
// mount cannot be bound apart from them), then applies flags, repeating the
// ones the kernel locks on a mount from a more privileged namespace.
static int bind_mount(const char *src, const char *dst, unsigned long flags) {
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) return fail("bind %s at %s", src, dst);
	struct statfs st;
	if (statfs(dst, &st) != 0) return fail("statfs %s", dst);
	flags |= MS_REMOUNT | MS_BIND | locked_flags((unsigned long)st.f_flags);
	if (mount("", dst, NULL, flags, NULL) != 0) return fail("remount %s", dst);
	return 0;
}

static int create_file(const char *path) {
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
	if (fd < 0) return fail("open %s", path);
	close(fd);
	return 0;
}

// attach_sources attaches the detached mounts the launcher sent at their
// targets beneath the new root.
static int attach_sources(struct release *rel) {
	for (uint32_t i = 0; i < rel->nmounts; i++) {
		struct mount_item *m = &rel->mounts[i];
		char target[4096];
		if ((size_t)snprintf(target, sizeof target, "%s%s", NEW_ROOT, m->target) >= sizeof target)
			return failf("mount target %s: path too long", m->target);
		uint32_t mode = m->mode;
		if (mode == 0) {
			struct stat st;
			if (fstat(m->fd, &st) != 0) return fail("make the mountpoint at %s: stat", m->target);
			mode = st.st_mode & S_IFMT;
		}
		char *slash = strrchr(target, '/');
		if (slash && slash != target) {
			*slash = '\0';
			int r = mkdir_all(target, 0755);
			*slash = '/';
			if (r != 0) return -1;
		}
		if (mode == S_IFDIR) {
			if (mkdir(target, 0755) != 0) return fail("make the mountpoint at %s: mkdir %s", m->target, target);
		} else if (create_file(target) != 0) {
			return -1;
		}
		if (syscall(SYS_move_mount, m->fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
			return fail("attach the mount at %s", m->target);
	}
	return 0;
}

static const char *const devices[] = {"null", "zero", "full", "urandom"};

// build_dev mounts a tmpfs at /dev holding only the harmless devices, then
// makes it read-only; the devices, mounts of their own, stay writable. The
// tmpfs is nodev like every other mount: the devices are usable through
// their own mounts (the only ones without nodev), nothing else in /dev is.
static int build_dev(void) {
	const char *dev = NEW_ROOT "/dev";
	unsigned long flags = MS_NOSUID | MS_NOEXEC;
	if (mount_fresh("tmpfs", dev, "tmpfs", flags | MS_NODEV, "mode=0755") != 0) return -1;
	for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
		char src[64], dst[64];
		snprintf(src, sizeof src, "/dev/%s", devices[i]);
		snprintf(dst, sizeof dst, "%s/%s", dev, devices[i]);
		if (create_file(dst) != 0 || bind_mount(src, dst, flags) != 0) return -1;
	}
	if (mount("", dev, NULL, MS_REMOUNT | MS_RDONLY | MS_NODEV | flags, NULL) != 0) return fail("remount %s read-only", dev);
	return 0;
}

// The parts of /proc that configure the kernel rather than describe
// processes, bound read-only over themselves where they exist.
static const char *const read_only_proc[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};

static int protect_proc(void) {
	for (size_t i = 0; i < sizeof read_only_proc / sizeof read_only_proc[0]; i++) {
		char path[64];
		snprintf(path, sizeof path, "%s/proc/%s", NEW_ROOT, read_only_proc[i]);
		struct stat st;
		if (lstat(path, &st) != 0) {
			if (errno == ENOENT) continue; // /proc/bus, say, only exists with a bus to show
			return fail("lstat %s", path);
		}
		if (bind_mount(path, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) != 0) return -1;
	}
	return 0;
}

// pivot_into makes dir the root, detaches the old one (with the host's root
// beneath it), then makes the new root read-only.
static int pivot_into(const char *dir) {
	if (chdir(dir) != 0) return fail("chdir %s", dir);
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// detach then takes it, and everything under it, away.
	if (syscall(SYS_pivot_root, ".", ".") != 0) return fail("pivot_root to %s", dir);
	if (umount2(".", MNT_DETACH) != 0) return fail("detach the old root");
	if (chdir("/") != 0) return fail("chdir /");
	if (mount("", "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
		return fail("remount / read-only");
	return 0;
}

// build_root assembles the sandbox's root (docs/internals.md, "The root
// inside") and makes it the root of the mount namespace.
static int build_root(struct release *rel) {
	char opts[64];
	int r = mount_fresh("tmpfs", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (r == 0) r = attach_sources(rel);
	if (r == 0) {
		snprintf(opts, sizeof opts, "mode=1777,size=%llu", (unsigned long long)rel->workspace);
		r = mount_fresh("tmpfs", NEW_ROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts);
	}
	if (r == 0) r = build_dev();
	if (r == 0) r = mount_fresh("proc", NEW_ROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
	if (r == 0) r = protect_proc();
	close_sources(rel);
	if (r == 0) r = pivot_into(NEW_ROOT);
	return r;
}

// ---- the other stages -----------------------------------------------------

static int make_mounts_private(struct release *rel) {
	(void)rel;
	// Mounts made here must not propagate to the host; the host's later
	// unmounts still reach us.
	if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) != 0) return fail("make / a recursive slave");
	return 0;
}

// The kernel counts some objects per user in every user namespace up the
// chain: an inotify instance the plugin makes counts against its own id in
// the sandbox's namespace and, one level up, against the namespace's owner,
// root (the launcher made it). Unbounded here, one plugin took all of root's
// fs.inotify.max_user_instances (128), and every root daemon and every other
// plugin got EMFILE from inotify_init. Each sandbox's namespace holds its
// plugin to a share.
static const struct {
	const char *path;
	const char *value;
} ucount_limits[] = {
    {"/proc/sys/user/max_inotify_instances", "16"},
    {"/proc/sys/user/max_inotify_watches", "8192"},
    {"/proc/sys/user/max_fanotify_groups", "16"},
    {"/proc/sys/user/max_fanotify_marks", "8192"},
};

static int limit_ucounts(struct release *rel) {
	(void)rel;
	for (size_t i = 0; i < sizeof ucount_limits / sizeof ucount_limits[0]; i++) {
		int fd = open(ucount_limits[i].path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT) continue; // a kernel without that count
			return fail("open %s", ucount_limits[i].path);
		}
		size_t len = strlen(ucount_limits[i].value);
		ssize_t n = write(fd, ucount_limits[i].value, len);
		int e = errno;
		close(fd);
		if (n != (ssize_t)len) {
			errno = n < 0 ? e : EIO;
			return fail("write %s to %s", ucount_limits[i].value, ucount_limits[i].path);
		}
	}
	return 0;
}

static int set_hostname(struct release *rel) {
	if (sethostname(rel->hostname, strlen(rel->hostname)) != 0) return fail("sethostname");
	return 0;
}

// set_up_network brings up lo, the only interface of the sandbox's own
// network namespace; with network "host" there is none of its own.
static int set_up_network(struct release *rel) {
	if (!(rel->flags & RELEASE_NEW_NETWORK)) return 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return fail("socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	int r = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		r = fail("get lo flags");
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) r = fail("bring lo up");
	}
	close(fd);
	return r;
}

// enter_cgroup_namespace gives the init, and so the plugin, a cgroup
// namespace rooted at the instance cgroup, which the init is in by now.
// Here rather than at the fork: the seccomp filter refuses unshare.
static int enter_cgroup_namespace(struct release *rel) {
	(void)rel;
	if (unshare(CLONE_NEWCGROUP) != 0) return fail("unshare the cgroup namespace");
	return 0;
}

// harden sets the plugin's rlimits (soft = hard, no core dumps), then loads
// the seccomp filter, which from here on holds for the init and everything
// it starts. The init keeps its permitted and effective capabilities until
// it has reported the plugin's pid.
static int harden(struct release *rel) {
	struct {
		const char *name;
		int resource;
		uint64_t value;
	} limits[] = {
	    {"RLIMIT_NOFILE", RLIMIT_NOFILE, rel->nofile},
	    {"RLIMIT_NPROC", RLIMIT_NPROC, rel->nproc},
	    {"RLIMIT_FSIZE", RLIMIT_FSIZE, rel->fsize},
	    // A core dump would write the plugin's memory, keys included, where
	    // it has no say.
	    {"RLIMIT_CORE", RLIMIT_CORE, 0},
	};
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		struct rlimit rl = {.rlim_cur = limits[i].value, .rlim_max = limits[i].value};
		if (setrlimit(limits[i].resource, &rl) != 0)
			return fail("set %s to %llu", limits[i].name, (unsigned long long)limits[i].value);
	}
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &rel->filter);
	if (r < 0) return fail("load the seccomp filter");
	if (r > 0) return failf("load the seccomp filter: thread %ld cannot be synchronised", r);
	return 0;
}

struct stage {
	const char *name;
	int (*run)(struct release *);
};

// The stages run in order once the release has come; harden comes last:
// nothing after it may need a syscall the seccomp filter refuses.
static const struct stage stages[] = {
    {"ucounts", limit_ucounts},      {"mounts", make_mounts_private},      {"rootfs", build_root},
    {"hostname", set_hostname},      {"network", set_up_network},          {"cgroupns", enter_cgroup_namespace},
    {"harden", harden},
};

// ---- the plugin -----------------------------------------------------------

static sigset_t handled;

static void no_op(int sig) { (void)sig; }

struct spawn {
	struct release *rel;
	int null_fd;
	volatile int err; // set by the child if it could not exec
};

// The child's stack: it runs on it, in the init's memory, until its exec.
static char spawn_stack[64 * 1024] __attribute__((aligned(16)));

// spawn_child runs between the clone and the plugin's exec. It shares the
// init's memory (CLONE_VM) but not its signal handlers, fds or working
// directory, and must only make system calls and write sp->err.
static int spawn_child(void *arg) {
	struct spawn *sp = arg;
	// Signals as a new program expects them: default, unblocked.
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigaction(SIGCHLD, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int e = 0;
	if (setsid() < 0) e = errno;
	if (!e && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) e = errno;
	if (!e && getppid() != 1) _exit(SETUP_FAILED); // the init is gone already
	if (!e && sp->null_fd >= 0 && dup2(sp->null_fd, 0) < 0) e = errno;
	if (!e && chdir("/") != 0) e = errno;
	if (!e) {
		execve(PLUGIN_PATH, sp->rel->argv, sp->rel->envp);
		e = errno;
	}
	sp->err = e ? e : EINVAL;
	_exit(127);
}

// Why exec can fail with ENOENT although the plugin is there: the program
// that must run it is missing from the sandbox, which has only what is
// granted. missing_interpreter returns what that program is, with its path
// in out, or NO_INTERPRETER_MISSING.
enum interpreter { NO_INTERPRETER_MISSING, ELF_INTERPRETER_MISSING, SCRIPT_INTERPRETER_MISSING };

static enum interpreter missing_interpreter(char *out, size_t size) {
	int fd = open(PLUGIN_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NO_INTERPRETER_MISSING;
	enum interpreter kind = NO_INTERPRETER_MISSING;
	char head[256];
	ssize_t n = pread(fd, head, sizeof head - 1, 0);
	Elf64_Ehdr eh;
	if (n >= (ssize_t)sizeof eh) memcpy(&eh, head, sizeof eh);
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		// "#!" then optional blanks, then the interpreter's path up to a blank or the line's end.
		head[n] = '\0';
		char *path = head + 2 + strspn(head + 2, " \t");
		size_t len = strcspn(path, " \t\n");
		if (len > 0 && len < size) {
			memcpy(out, path, len);
			out[len] = '\0';
			kind = SCRIPT_INTERPRETER_MISSING;
		}
	} else if (n >= (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	           eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph) break;
			if (ph.p_type != PT_INTERP) continue;
			if (ph.p_filesz >= 2 && ph.p_filesz <= size && pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz) {
				out[ph.p_filesz - 1] = '\0'; // p_filesz counts the terminating NUL
				kind = ELF_INTERPRETER_MISSING;
			}
			break;
		}
	}
	close(fd);
	struct stat st;
	if (kind != NO_INTERPRETER_MISSING && stat(out, &st) == 0) kind = NO_INTERPRETER_MISSING;
	return kind;
}

// start_plugin starts the plugin: stdin /dev/null or the init's, stdout and
// stderr the init's (the launcher's), in a session of its own, with exactly
// the release's arguments and environment, at /. It inherits the init's
// hardening. The clone is a vfork: the init waits, without a pipe, until
// the child has exec'd or failed to, and the child runs at once on the
// init's CPU. On failure it returns -1 with errbuf set.
static pid_t start_plugin(struct release *rel) {
	struct spawn sp = {.rel = rel, .null_fd = -1, .err = 0};
	if (!(rel->flags & RELEASE_INHERIT_STDIN)) {
		sp.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (sp.null_fd < 0) return fail("open /dev/null");
	}
	pid_t pid = clone(spawn_child, spawn_stack + sizeof spawn_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &sp);
	int clone_errno = errno;
	if (sp.null_fd >= 0) close(sp.null_fd);
	if (pid < 0) {
		errno = clone_errno;
		return fail("start %s: clone", PLUGIN_PATH);
	}
	if (sp.err != 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
		}
		char interp[256];
		enum interpreter missing = sp.err == ENOENT ? missing_interpreter(interp, sizeof interp) : NO_INTERPRETER_MISSING;
		if (missing == ELF_INTERPRETER_MISSING) {
			return failf("start %s: %s: it is dynamically linked, and its loader %s is not in the sandbox: grant the "
			             "loader and its libraries read-only (readOnlyPaths; corral sandbox --ro), or build the plugin "
			             "statically (for Go, CGO_ENABLED=0)",
			             PLUGIN_PATH, errno_text(ENOENT), interp);
		}
		if (missing == SCRIPT_INTERPRETER_MISSING) {
			return failf("start %s: %s: it is a script, and its interpreter %s is not in the sandbox: grant it and "
			             "what it loads read-only (readOnlyPaths; corral sandbox --ro)",
			             PLUGIN_PATH, errno_text(ENOENT), interp);
		}
		errno = sp.err;
		return fail("start %s", PLUGIN_PATH);
	}
	return pid;
}

// supervise forwards SIGTERM and SIGINT to the plugin and reaps every child
// (as PID 1 the init inherits every orphan of the sandbox) until the plugin
// itself has exited; it returns the plugin's wait status.
static int supervise(int sfd, pid_t plugin) {
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof si);
		if (n < 0 && errno == EINTR) continue;
		if (n != (ssize_t)sizeof si) {
			// Cannot happen; wait for the plugin the plain way.
			int status;
			while (waitpid(plugin, &status, 0) < 0)
				if (errno != EINTR) return 0;
			return status;
		}
		if (si.ssi_signo != SIGCHLD) {
			kill(plugin, (int)si.ssi_signo);
			continue;
		}
		// SIGCHLDs coalesce: one may stand for many children.
		for (;;) {
			int status;
			pid_t pid = waitpid(-1, &status, WNOHANG);
			if (pid < 0 && errno == EINTR) continue;
			if (pid <= 0) break;
			if (pid == plugin) return status;
		}
	}
}

// kill_remaining kills whatever the plugin left behind and reaps it, so that
// nothing of the sandbox outlives the "exited" report.
static void kill_remaining(void) {
	kill(-1, SIGKILL); // from PID 1: everyone in the namespace but the init
	for (;;) {
		if (wait4(-1, NULL, 0, NULL) >= 0) continue;
		if (errno != EINTR) return; // ECHILD: no one is left
	}
}

static int exit_status(int status) {
	if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int init_main(void) {
	trace("start");
	prctl(PR_SET_NAME, "corral-init", 0, 0, 0); // not what it was exec'd or cloned as
	if (getpid() != 1) {
		static const char msg[] = "corral-sandbox-init: started by the launcher, not by hand\n";
		(void)!write(2, msg, sizeof msg - 1);
		return SETUP_FAILED;
	}
	// fds inherited beyond the channel must not reach the plugin.
	if (syscall(SYS_close_range, CHANNEL_FD, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
		for (int fd = CHANNEL_FD; fd < 1024; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (front_started) {
		// The launcher learns the init's pid from the credentials the
		// kernel attaches.
		static const char hello[] = "{\"type\":\"hello\"}";
		if (send_msg(hello, sizeof hello - 1, NULL, 0) != 0) return SETUP_FAILED;
	}

	// Before anything else, so that no child's exit and no signal the
	// launcher forwards is missed. PID 1 of a namespace is sent only the
	// signals it has a handler for, so each gets one; they are taken from
	// a signalfd while blocked.
	sigemptyset(&handled);
	sigaddset(&handled, SIGCHLD);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigprocmask(SIG_BLOCK, &handled, NULL);
	struct sigaction sa = {.sa_handler = no_op, .sa_flags = SA_RESTART};
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int sfd = signalfd(-1, &handled, SFD_CLOEXEC);

	// Before the release: a failure is reported once it has come, when the
	// launcher listens.
	int dropped = drop_privileges();
	char drop_error[sizeof errbuf];
	if (dropped != 0) snprintf(drop_error, sizeof drop_error, "%s", errbuf);
	trace("dropped");

	struct release rel;
	memset(&rel, 0, sizeof rel);
	int r = receive_release(&rel);
	trace("released");
	if (r == -2) return SETUP_FAILED; // the launcher is gone
	if (r != 0) {
		send_error("spec", errbuf);
		return SETUP_FAILED;
	}
	if (take_ids() != 0) {
		close_sources(&rel);
		send_error("ids", errbuf);
		return SETUP_FAILED;
	}
	if (rel.ntasks > 0) {
		if (place_self(&rel) != 0) {
			close_sources(&rel);
			send_error("cgroup", errbuf);
			return SETUP_FAILED;
		}
		static const char placed[] = "{\"type\":\"placed\"}";
		if (send_msg(placed, sizeof placed - 1, NULL, 0) != 0) return SETUP_FAILED;
		trace("placed");
	}
	if (dropped != 0) {
		close_sources(&rel);
		send_error("privileges", drop_error);
		return SETUP_FAILED;
	}
	if (sfd < 0) {
		close_sources(&rel);
		fail("signalfd");
		send_error("init", errbuf);
		return SETUP_FAILED;
	}
	for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
		if (stages[i].run(&rel) != 0) {
			close_sources(&rel);
			send_error(stages[i].name, errbuf);
			return SETUP_FAILED;
		}
		trace(stages[i].name);
	}
	pid_t plugin = start_plugin(&rel);
	if (plugin < 0) {
		send_error("exec", errbuf);
		return SETUP_FAILED;
	}
	trace("forked");
	// Sent before anything is reaped, so the plugin's pid is still valid
	// when the kernel translates it for the launcher.
	if (send_started(plugin) != 0) return SETUP_FAILED; // the launcher is gone; the kernel ends us all
	// Passing another process's pid was the last thing that needed a
	// capability; from here on the init signals and reaps its own.
	if (set_capabilities(0) != 0) {
		char inner[sizeof errbuf + 64];
		snprintf(inner, sizeof inner, "drop the init's capabilities: %s", errbuf);
		kill(plugin, SIGKILL);
		supervise(sfd, plugin);
		kill_remaining();
		send_error("harden", inner);
		return SETUP_FAILED;
	}
	trace("reported");
	int status = supervise(sfd, plugin);
	trace("plugin-exited");
	kill_remaining();
	send_exited(status);
	trace("end");
	return exit_status(status);
}

// ---- the front ------------------------------------------------------------

// The launcher's front: "corral-sandbox-init front LAUNCHER run ARGS...".
// launchSandbox starts a cold launcher through it (--owner or --owner-fd, no
// --ids). It forks, and
// execs the Go launcher in its own place at once; the fork makes the
// sandbox's namespaces meanwhile (unshare, most of the cost of a clone into
// them), forks the init into them, PID 1 of the new pid namespace, and
// ends. The launcher, a child subreaper, inherits the init, and adopts it
// (EARLY_INIT_ENV names the fork's pid and the launcher's end of the
// channel, over which the init says hello, its pid attached by the kernel)
// as if it had cloned it itself before the spec (startUnmapped in
// launcher.go): unmapped ids, placed by itself once released. The
// namespaces' creation and the init's first steps then overlap the start of
// the Go runtime instead of preceding or following it, and the init needs
// no exec. Its parent-death signal is set once it has its ids (take_ids),
// when the launcher, which has reaped the fork by then, is its parent.
//
// With --owner-fd N the owner comes later, as "UID:GID\n" on fd N (a pipe):
// the caller spawns the launcher before it has claimed the sandbox's uid,
// so that the launcher starts while it does. The fork waits for it there;
// the launcher checks the namespace's owner against the spec's uid.
#define EARLY_INIT_ENV "CORRAL_SANDBOX_EARLY_INIT"

struct front_child {
	int init_end;
	int stdin_to_init;
	char **argv;
};

// front_init runs in the init the front's fork forked: the init, with its
// end of the channel at fd 3, no other fd of the launcher's (its events, the
// spec) and, unless the spec comes on another fd than stdin, /dev/null as
// stdin.
static int front_init(struct front_child *c) {
	// Its command line, which the plugin can read (/proc/1/cmdline), is the
	// front's, with host paths in it: blank it, but for a name.
	for (char **a = c->argv; *a; a++) memset(*a, 0, strlen(*a));
	static const char name[] = "corral-init";
	if (c->argv[0] && c->argv[1] && c->argv[1] - c->argv[0] > (long)sizeof name) memcpy(c->argv[0], name, sizeof name);
	if (c->init_end != CHANNEL_FD && dup2(c->init_end, CHANNEL_FD) < 0) return SETUP_FAILED;
	syscall(SYS_close_range, CHANNEL_FD + 1, ~0U, 0);
	if (!c->stdin_to_init) {
		int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null_fd < 0 || dup2(null_fd, 0) < 0) return SETUP_FAILED;
		close(null_fd);
	}
	front_started = 1;
	return init_main();
}

/* Reports a failure of the front as the launcher's error event (on fd 3). */
static int front_failed(const char *message) {
	char buf[4096];
	size_t at = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"error\",\"stage\":\"launcher\",\"message\":");
	at = json_string(buf, sizeof buf, at, message);
	if (at + 2 <= sizeof buf) {
		buf[at++] = '}';
		buf[at++] = '\n';
		(void)!write(3, buf, at);
	}
	return SETUP_FAILED;
}

// act_as_owner makes the fork that makes the sandbox's namespaces act as the
// sandbox's uid and gid, so that they own its user namespace: the kernel
// charges what the sandbox makes (inotify instances, ...) to the owner of
// its namespace, and root's counts are the host's daemons' (owner.go in the
// launcher tells more). The real and saved uid stay 0, so the permitted
// capabilities stay, and are made effective again.
static int act_as_owner(uid_t uid, gid_t gid) {
	if (setresgid(-1, gid, -1) != 0 || setresuid(-1, uid, -1) != 0) return -1;
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &header, data) != 0) return -1;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].effective = data[i].permitted;
	return syscall(SYS_capset, &header, data) == 0 ? 0 : -1;
}

// read_owner reads "UID:GID\n" from fd, a byte at a time (nothing after
// the line is the fork's to take), and closes it. Both must be unprivileged
// host ids: not 0.
static int read_owner(int fd, unsigned *uid, unsigned *gid) {
	char line[32];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		if (line[n] == '\n' || ++n == sizeof line - 1) break;
	}
	close(fd);
	line[n] = 0;
	char end;
	return sscanf(line, "%u:%u%c", uid, gid, &end) == 2 && *uid != 0 && *gid != 0 ? 0 : -1;
}

static int front_main(int argc, char **argv) {
	trace("front");
	if (argc < 4) {
		static const char msg[] = "usage: corral-sandbox-init front LAUNCHER run [ARGS...]\n";
		(void)!write(2, msg, sizeof msg - 1);
		return 2;
	}
	// The caller's supplementary groups (host gid 0 under sudo, say) would
	// follow into the sandbox, where setgroups is denied and nothing could
	// drop them: dropped here, before the early init is forked (the
	// launcher, exec'd next, finds none).
	if (setgroups(0, NULL) != 0 && geteuid() == 0) {
		char message[256];
		snprintf(message, sizeof message, "dropping the supplementary groups: %s", errno_text(errno));
		return front_failed(message);
	}
	char **launcher_argv = argv + 2;
	const char *launcher = argv[2];
	int owned = 0, ids = 0, stdin_to_init = 0, owner_fd = -1, spec_fd = 0;
	unsigned owner_uid = 0, owner_gid = 0;
	char end;
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--owner") == 0 && i + 1 < argc &&
		    sscanf(argv[i + 1], "%u:%u%c", &owner_uid, &owner_gid, &end) == 2 && owner_uid != 0 && owner_gid != 0)
			owned = 1;
		if (strcmp(argv[i], "--owner-fd") == 0 && i + 1 < argc && sscanf(argv[i + 1], "%d%c", &owner_fd, &end) != 1) owner_fd = -1;
		if (strcmp(argv[i], "--ids") == 0) ids = 1;
		if (strcmp(argv[i], "--spec-fd") == 0 && i + 1 < argc && strcmp(argv[i + 1], "0") != 0) {
			stdin_to_init = 1;
			spec_fd = atoi(argv[i + 1]);
		}
	}
	// The owner's fd is one of its own, past the events' (3) and not the
	// spec's: any other is the launcher's to refuse, untouched here.
	if (owner_fd > 3 && owner_fd != spec_fd) owned = 1;
	else owner_fd = -1;
	// The namespaces are made early only for an owner that is not root
	// (--owner, --owner-fd); with --ids the launcher clones its init itself.
	int early = owned && !ids;
	int sv[2], one = 1;
	if (early && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
		pid_t mid = -1;
		if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
			mid = fork();
		if (mid == 0) {
			close(sv[0]);
			if (owner_fd >= 0 && read_owner(owner_fd, &owner_uid, &owner_gid) != 0) _exit(1);
			if (act_as_owner(owner_uid, owner_gid) != 0) _exit(1);
			if (unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) != 0) _exit(1);
			pid_t init = fork();
			if (init == 0) {
				struct front_child c = {.init_end = sv[1], .stdin_to_init = stdin_to_init, .argv = argv};
				_exit(front_init(&c));
			}
			_exit(init > 0 ? 0 : 1);
		}
		close(sv[1]);
		char value[64];
		if (mid > 0 && fcntl(sv[0], F_SETFD, 0) == 0) {
			snprintf(value, sizeof value, "%d %d", (int)mid, sv[0]);
			setenv(EARLY_INIT_ENV, value, 1);
		} else {
			// The launcher clones its own. (A fork left running ends, and
			// its init, finding the channel closed.)
			prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
			close(sv[0]);
		}
		trace("front-forked");
	}
	// The owner's pipe is the fork's alone: the launcher has the spec's ids.
	if (owner_fd >= 0) close(owner_fd);
	execv(launcher, launcher_argv);
	int e = errno;
	unsetenv(EARLY_INIT_ENV); // the init, if any, sees its channel close and ends
	char message[1024];
	snprintf(message, sizeof message, "exec %s: %s", launcher, errno_text(e));
	return front_failed(message);
}

int main(int argc, char **argv) {
	tracing = getenv("CORRAL_SANDBOX_TRACE") != NULL;
	if (argc > 1 && strcmp(argv[1], "front") == 0) return front_main(argc, argv);
	return init_main();
}

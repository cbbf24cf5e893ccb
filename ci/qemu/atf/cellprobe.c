/*	$NetBSD$	*/

/*
 * cellprobe -- the in-guest helper of the secmodel_cell ATF tests.
 *
 * One program, one operation per invocation: it drives the ABI
 * (security.models.cell.*) directly with sysctlbyname(3), enters cells,
 * and tries one escape at a time.  Each probe prints a single token on
 * stdout -- "ok" or the errno name (EPERM, EACCES, ...) -- or an observed
 * effect ("visible"/"hidden", a trace flag, "alive"), and exits 0 when the
 * probe itself ran; usage and setup errors exit 2 with a message on
 * stderr.  The ATF scripts compare the tokens, so a denial that the kernel
 * reports as success (fktrace) is judged by its effect, seen from the host.
 *
 * Built statically in the guest so a cell root needs nothing but this
 * binary: cc -static -I kmod/secmodel_cell/core -o cellprobe cellprobe.c
 * The parts that only exist on NetBSD are guarded so that the portable
 * rest (ABI structs, argument handling, sockets, SysV IPC, fork loop) can
 * be syntax-checked on other systems.
 */

#include <sys/param.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __NetBSD__
#include <sys/ktrace.h>
#include <sys/module.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/sysctl.h>

#include <fs/tmpfs/tmpfs_args.h>
#endif

#include "cell_abi.h"

#define	NODE(n)		"security.models.cell." n
#define	MODULE_NAME	"secmodel_cell"

struct errname {
	int		 en_errno;
	const char	*en_name;
};

static const struct errname errnames[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
	{ EINTR, "EINTR" }, { EIO, "EIO" }, { ENXIO, "ENXIO" },
	{ ECHILD, "ECHILD" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" }, { ENOTDIR, "ENOTDIR" },
	{ EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" }, { EROFS, "EROFS" },
	{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { EAFNOSUPPORT, "EAFNOSUPPORT" },
	{ EPROTONOSUPPORT, "EPROTONOSUPPORT" }, { EADDRINUSE, "EADDRINUSE" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { EPROTO, "EPROTO" },
	{ 0, NULL }
};

static void	usage(void) __attribute__((__noreturn__));
static void	die(const char *, ...) __attribute__((__noreturn__,
		    __format__(__printf__, 1, 2)));

static const char *
errname(int e)
{
	static char buf[16];
	const struct errname *en;

	for (en = errnames; en->en_name != NULL; en++)
		if (en->en_errno == e)
			return en->en_name;
	(void)snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* Print "ok" or the errno name for a call's result; always exit 0. */
static int
verdict(int rv)
{

	(void)printf("%s\n", rv == 0 ? "ok" : errname(errno));
	return 0;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)fprintf(stderr, "cellprobe: ");
	(void)vfprintf(stderr, fmt, ap);
	(void)fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void
usage(void)
{

	(void)fprintf(stderr,
	    "usage: cellprobe [-u uid] operation [arguments]\n"
	    "  control: abi | create name root low|medium|high"
	    " [flags [port|addr...]]\n"
	    "           destroy id | id | enter id\n"
	    "           chroot-enter root id [uid] | exec id root [-u uid] --"
	    " prog [args]\n"
	    "           count | info id | list | head | events since cell"
	    " | unload\n"
	    "  targets: sleep secs [readyfile] | zombie id root\n"
	    "  probes:  see pid | signal pid sig | alive pid | ptrace pid"
	    " | traced pid\n"
	    "           ktrace pid | traceflag pid | bind4 port | bind6 port"
	    " | raw4 | raw6\n"
	    "           bindaddr4 addr port | bindaddr6 addr port"
	    " | connect4 addr port\n"
	    "           connect6 addr port"
	    " | route | mount dir | mknod path | modload"
	    " | sysctl-write | settime\n"
	    "           chroot | reboot | shm-create key uid | shm-get key"
	    " | shm-private\n"
	    "           shm-remove key | forkloop n\n");
	exit(2);
}

/* Drop to uid (and the same gid), with no supplementary groups left. */
static void
become(long uid)
{
	gid_t gid = (gid_t)uid;

	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid((uid_t)uid) == -1)
		die("become uid %ld: %s", uid, strerror(errno));
}

static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		die("bad number '%s' (want %ld..%ld)", s, lo, hi);
	return v;
}

static uint32_t
profile_value(const char *s)
{

	if (strcmp(s, "low") == 0)
		return CELL_PROFILE_LOW;
	if (strcmp(s, "medium") == 0)
		return CELL_PROFILE_MEDIUM;
	if (strcmp(s, "high") == 0)
		return CELL_PROFILE_HIGH;
	die("unknown profile '%s' (low, medium or high)", s);
}

/* A bind address of the create request: IPv6 if it has a colon. */
static void
fill_addr(struct cell_addr *ca, const char *s)
{

	memset(ca, 0, sizeof(*ca));
	if (strchr(s, ':') != NULL) {
		ca->ca_family = CELL_AF_INET6;
		if (inet_pton(AF_INET6, s, ca->ca_addr) != 1)
			die("bad IPv6 address '%s'", s);
	} else {
		ca->ca_family = CELL_AF_INET;
		if (inet_pton(AF_INET, s, ca->ca_addr) != 1)
			die("bad IPv4 address '%s'", s);
	}
}

/*
 * Fill a create request; portable, so it is checked on any system.
 * Each of args is a reserved port, or a bind address if it has a dot or
 * a colon.
 */
static void
fill_create(struct cell_create_req *req, const char *name, const char *root,
    uint32_t profile, uint32_t flags, char **args, int nargs)
{
	int i;

	if (strlen(name) >= sizeof(req->cr_name) ||
	    strlen(root) >= sizeof(req->cr_root))
		die("name or root too long");
	memset(req, 0, sizeof(*req));
	req->cr_size = sizeof(*req);
	req->cr_abi = CELL_ABI_VERSION;
	req->cr_flags = flags;
	req->cr_profile = profile;
	(void)strcpy(req->cr_name, name);
	(void)strcpy(req->cr_root, root);
	for (i = 0; i < nargs; i++) {
		if (strpbrk(args[i], ".:") != NULL) {
			if (req->cr_naddrs >= CELL_ADDRS_MAX)
				die("at most %d addresses", CELL_ADDRS_MAX);
			fill_addr(&req->cr_addrs[req->cr_naddrs++], args[i]);
		} else {
			if (req->cr_nports >= CELL_PORTS_MAX)
				die("at most %d ports", CELL_PORTS_MAX);
			req->cr_ports[req->cr_nports++] =
			    (uint16_t)number(args[i], 1, 65535);
		}
	}
}

/* The socket address of family for addr (NULL: the wildcard) and port. */
static socklen_t
sockaddr_of(struct sockaddr_storage *ss, int family, const char *addr,
    int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		if (addr != NULL && inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			die("bad IPv4 address '%s'", addr);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_addr = in6addr_any;
	if (addr != NULL && inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
		die("bad IPv6 address '%s'", addr);
	return sizeof(*sin6);
}

/* Bind a TCP socket to addr (NULL: the wildcard) and port. */
static int
do_bind(int family, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int s, on = 1, rv;

	sslen = sockaddr_of(&ss, family, addr, port);
	s = socket(family, SOCK_STREAM, 0);
	if (s == -1)
		return verdict(-1);
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	rv = bind(s, (struct sockaddr *)&ss, sslen);
	(void)verdict(rv);
	(void)close(s);
	return 0;
}

/*
 * Connect an unbound UDP socket to addr and port: the kernel first binds
 * it implicitly (wildcard address, ephemeral port), the same bind a TCP
 * connect makes, and UDP needs no listener.  "ok" only if the socket then
 * has a local port; "unbound" if connect succeeded without one.
 */
static int
do_connect(int family, const char *addr, int port)
{
	struct sockaddr_storage ss, local;
	socklen_t sslen, llen = sizeof(local);
	int s, port_out;

	sslen = sockaddr_of(&ss, family, addr, port);
	s = socket(family, SOCK_DGRAM, 0);
	if (s == -1)
		return verdict(-1);
	if (connect(s, (struct sockaddr *)&ss, sslen) == -1) {
		(void)verdict(-1);
		(void)close(s);
		return 0;
	}
	if (getsockname(s, (struct sockaddr *)&local, &llen) == -1)
		die("getsockname: %s", strerror(errno));
	if (family == AF_INET)
		port_out = ntohs(((struct sockaddr_in *)&local)->sin_port);
	else
		port_out = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
	(void)printf("%s\n", port_out != 0 ? "ok" : "unbound");
	(void)close(s);
	return 0;
}

static int
do_socket(int domain, int type, int proto)
{
	int s;

	s = socket(domain, type, proto);
	(void)verdict(s == -1 ? -1 : 0);
	if (s != -1)
		(void)close(s);
	return 0;
}

static int
do_forkloop(long n)
{
	long i, failures = 0;
	pid_t pid;
	int status;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid == -1) {
			failures++;
			continue;
		}
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failures++;
	}
	(void)printf("forks=%ld failures=%ld\n", n, failures);
	return 0;
}

static int
do_shm(const char *op, char **av, int ac)
{
	struct shmid_ds ds;
	key_t key;
	int id;

	if (strcmp(op, "shm-private") == 0) {
		/*
		 * Creating makes no kauth call: allowed under every profile.
		 * Under high the IPC_RMID below is refused like every other
		 * permission check, and the page stays until the VM goes.
		 */
		id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		(void)verdict(id == -1 ? -1 : 0);
		if (id != -1)
			(void)shmctl(id, IPC_RMID, NULL);
		return 0;
	}
	if (ac < 1)
		usage();
	key = (key_t)number(av[0], 1, 0x7fffffff);
	if (strcmp(op, "shm-create") == 0) {
		if (ac < 2)
			usage();
		id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
		if (id == -1)
			die("shmget(%ld): %s", (long)key, strerror(errno));
		if (shmctl(id, IPC_STAT, &ds) == -1)
			die("shmctl IPC_STAT: %s", strerror(errno));
		ds.shm_perm.uid = (uid_t)number(av[1], 1, 0x7fffffff);
		if (shmctl(id, IPC_SET, &ds) == -1)
			die("shmctl IPC_SET: %s", strerror(errno));
		(void)printf("%d\n", id);
		return 0;
	}
	if (strcmp(op, "shm-get") == 0)
		/* Another uid's 0600 segment: only the SYSVIPC bypass opens it. */
		return verdict(shmget(key, 0, SHM_R) == -1 ? -1 : 0);
	if (strcmp(op, "shm-remove") == 0) {
		id = shmget(key, 0, 0);
		if (id != -1)
			(void)shmctl(id, IPC_RMID, NULL);
		return verdict(id == -1 ? -1 : 0);
	}
	usage();
}

#ifdef __NetBSD__
static int
get_kproc(pid_t pid, struct kinfo_proc2 *kp)
{
	int mib[6];
	size_t len = sizeof(*kp);

	mib[0] = CTL_KERN;
	mib[1] = KERN_PROC2;
	mib[2] = KERN_PROC_PID;
	mib[3] = pid;
	mib[4] = (int)sizeof(*kp);
	mib[5] = 1;
	if (sysctl(mib, 6, kp, &len, NULL, 0) == -1)
		die("sysctl kern.proc2 %d: %s", (int)pid, strerror(errno));
	return len == sizeof(*kp);
}

static int
probe_create(char **av, int ac)
{
	struct cell_create_req req;
	size_t len = sizeof(req);
	uint32_t flags = 0;

	if (ac < 3)
		usage();
	if (ac >= 4)
		flags = (uint32_t)number(av[3], 0, CELL_F_ALL);
	fill_create(&req, av[0], av[1], profile_value(av[2]), flags,
	    av + 4, ac > 4 ? ac - 4 : 0);
	if (sysctlbyname(NODE("create"), &req, &len, &req, sizeof(req)) == -1)
		return verdict(-1);
	(void)printf("%u\n", req.cr_id);
	return 0;
}

static int
cell_write_u32(const char *node, uint32_t v)
{

	return sysctlbyname(node, NULL, NULL, &v, sizeof(v));
}

static uint32_t
cell_self(void)
{
	uint32_t id;
	size_t len = sizeof(id);

	if (sysctlbyname(NODE("id"), &id, &len, NULL, 0) == -1)
		die("%s: %s", NODE("id"), strerror(errno));
	return id;
}

/* After an enter attempt: "ok id=N" or "EPERM id=N", N read back. */
static int
entered(int rv)
{
	int e = errno;

	(void)printf("%s id=%u\n", rv == 0 ? "ok" : errname(e), cell_self());
	return 0;
}

static int
probe_info(uint32_t id, struct cell_info *out)
{
	struct cell_info *buf;
	size_t len = 0, i, n;

	if (sysctlbyname(NODE("list"), NULL, &len, NULL, 0) == -1)
		return -1;
	len += 4 * sizeof(*buf);	/* room for cells created meanwhile */
	if ((buf = malloc(len)) == NULL)
		die("malloc");
	if (sysctlbyname(NODE("list"), buf, &len, NULL, 0) == -1) {
		free(buf);
		return -1;
	}
	n = len / sizeof(*buf);
	for (i = 0; i < n; i++)
		if (buf[i].ci_id == id) {
			*out = buf[i];
			free(buf);
			return 1;
		}
	free(buf);
	return 0;
}

static int
probe_events(uint64_t since, uint32_t cell)
{
	struct cell_event *ev;
	uint64_t per[CELL_SCOPE_COUNT];
	size_t len = CELL_AUDIT_RING * sizeof(*ev), i, n;
	unsigned s;

	if ((ev = malloc(len)) == NULL)
		die("malloc");
	if (sysctlbyname(NODE("events"), ev, &len, &since, sizeof(since)) == -1)
		return verdict(-1);
	memset(per, 0, sizeof(per));
	n = len / sizeof(*ev);
	for (i = 0; i < n; i++) {
		if (ev[i].ev_seq < since)
			die("event %llu older than %llu",
			    (unsigned long long)ev[i].ev_seq,
			    (unsigned long long)since);
		if (ev[i].ev_cell == cell && ev[i].ev_scope < CELL_SCOPE_COUNT)
			per[ev[i].ev_scope]++;
	}
	for (s = 0; s < CELL_SCOPE_COUNT; s++)
		(void)printf("%s%llu", s ? " " : "", (unsigned long long)per[s]);
	(void)printf("\n");
	free(ev);
	return 0;
}

static void
enter_or_die(const char *root, uint32_t id)
{

	if (chroot(root) == -1 || chdir("/") == -1)
		die("chroot %s: %s", root, strerror(errno));
	if (cell_write_u32(NODE("id"), id) == -1)
		die("enter cell %u: %s", id, errname(errno));
}

static int
do_zombie(uint32_t id, const char *root)
{
	pid_t pid;

	/* The child joins the cell and exits; nobody reaps it. */
	pid = fork();
	if (pid == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		enter_or_die(root, id);
		_exit(0);
	}
	(void)printf("%d\n", (int)pid);
	(void)fflush(stdout);
	for (;;)
		(void)pause();
}

static int
netbsd_op(const char *op, char **av, int ac)
{
	struct kinfo_proc2 kp;
	struct cell_info ci;
	struct cell_stats st;
	struct tmpfs_args ta;
	struct timeval tv;
	modctl_load_t ml;
	char host[MAXHOSTNAMELEN], again[MAXHOSTNAMELEN];
	size_t len;
	pid_t pid;
	int fd, rv, status;

	if (strcmp(op, "abi") == 0) {
		len = sizeof(rv);
		if (sysctlbyname(NODE("abi_version"), &rv, &len, NULL, 0) == -1)
			die("%s: %s", NODE("abi_version"), strerror(errno));
		(void)printf("%d\n", rv);
		return rv == CELL_ABI_VERSION ? 0 : 1;
	}
	if (strcmp(op, "create") == 0)
		return probe_create(av, ac);
	if (strcmp(op, "id") == 0) {
		(void)printf("%u\n", cell_self());
		return 0;
	}
	if (strcmp(op, "count") == 0 || strcmp(op, "list") == 0) {
		len = 0;
		rv = sysctlbyname(NODE("list"), NULL, &len, NULL, 0);
		if (rv == -1 || strcmp(op, "list") == 0)
			return verdict(rv);
		(void)printf("%zu\n", len / sizeof(struct cell_info));
		return 0;
	}
	if (strcmp(op, "head") == 0) {
		len = sizeof(st);
		if (sysctlbyname(NODE("stats"), &st, &len, NULL, 0) == -1)
			die("%s: %s", NODE("stats"), strerror(errno));
		(void)printf("%llu\n", (unsigned long long)st.st_audit_head);
		return 0;
	}
	if (strcmp(op, "unload") == 0)
		return verdict(modctl(MODCTL_UNLOAD, __UNCONST(MODULE_NAME)));
	if (strcmp(op, "modload") == 0) {
		memset(&ml, 0, sizeof(ml));
		ml.ml_filename = "cellprobe_no_such_module";
		ml.ml_flags = MODCTL_NO_PROP;
		return verdict(modctl(MODCTL_LOAD, &ml));
	}
	if (strcmp(op, "raw6") == 0)
		return do_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (strcmp(op, "route") == 0)
		return do_socket(PF_ROUTE, SOCK_RAW, 0);
	if (strcmp(op, "sysctl-write") == 0) {
		len = sizeof(host);
		if (sysctlbyname("kern.hostname", host, &len, NULL, 0) == -1)
			die("kern.hostname: %s", strerror(errno));
		rv = sysctlbyname("kern.hostname", NULL, NULL, host,
		    strlen(host) + 1);
		(void)verdict(rv);
		len = sizeof(again);
		if (sysctlbyname("kern.hostname", again, &len, NULL, 0) == 0 &&
		    strcmp(host, again) != 0)
			die("kern.hostname changed: '%s' -> '%s'", host, again);
		return 0;
	}
	if (strcmp(op, "settime") == 0) {
		/* Setting the clock to now: allowed or not, nothing moves. */
		if (gettimeofday(&tv, NULL) == -1)
			die("gettimeofday: %s", strerror(errno));
		return verdict(settimeofday(&tv, NULL));
	}
	if (strcmp(op, "chroot") == 0)
		return verdict(chroot("/"));
	if (strcmp(op, "reboot") == 0) {
		/*
		 * Only ever run inside a cell, after the results are saved:
		 * if the model wrongly allowed it, the VM halts (no sync)
		 * and the host reports the halt as a failure.
		 */
		(void)printf("reboot-probe: calling reboot(RB_HALT|RB_NOSYNC)\n");
		(void)fflush(stdout);
		(void)reboot(RB_HALT | RB_NOSYNC, NULL);
		(void)printf("reboot-probe: %s\n", errname(errno));
		return 0;
	}
	if (ac < 1)
		usage();
	if (strcmp(op, "destroy") == 0)
		return verdict(cell_write_u32(NODE("destroy"),
		    (uint32_t)number(av[0], 0, UINT32_MAX)));
	if (strcmp(op, "enter") == 0) {
		rv = cell_write_u32(NODE("id"),
		    (uint32_t)number(av[0], 0, UINT32_MAX));
		return entered(rv);
	}
	if (strcmp(op, "info") == 0) {
		rv = probe_info((uint32_t)number(av[0], 1, UINT32_MAX), &ci);
		if (rv != 1)
			return verdict(rv == 0 ? (errno = ENOENT, -1) : -1);
		(void)printf("id=%u name=%s profile=%u state=%u nprocs=%u"
		    " nrefs=%u denies=%llu,%llu,%llu,%llu,%llu,%llu\n",
		    ci.ci_id, ci.ci_name, ci.ci_profile, ci.ci_state,
		    ci.ci_nprocs, ci.ci_nrefs,
		    (unsigned long long)ci.ci_denies[0],
		    (unsigned long long)ci.ci_denies[1],
		    (unsigned long long)ci.ci_denies[2],
		    (unsigned long long)ci.ci_denies[3],
		    (unsigned long long)ci.ci_denies[4],
		    (unsigned long long)ci.ci_denies[5]);
		return 0;
	}
	if (strcmp(op, "chroot-enter") == 0) {
		if (ac < 2)
			usage();
		if (chroot(av[0]) == -1 || chdir("/") == -1)
			die("chroot %s: %s", av[0], strerror(errno));
		if (ac >= 3)
			become(number(av[2], 1, 0x7fffffff));
		return entered(cell_write_u32(NODE("id"),
		    (uint32_t)number(av[1], 0, UINT32_MAX)));
	}
	if (strcmp(op, "events") == 0) {
		if (ac < 2)
			usage();
		return probe_events((uint64_t)number(av[0], 0, LONG_MAX),
		    (uint32_t)number(av[1], 0, UINT32_MAX));
	}
	if (strcmp(op, "zombie") == 0) {
		if (ac < 2)
			usage();
		return do_zombie((uint32_t)number(av[0], 1, UINT32_MAX), av[1]);
	}
	if (strcmp(op, "mount") == 0) {
		memset(&ta, 0, sizeof(ta));
		ta.ta_version = TMPFS_ARGS_VERSION;
		ta.ta_size_max = 1024 * 1024;
		ta.ta_root_mode = 0700;
		rv = mount(MOUNT_TMPFS, av[0], 0, &ta, sizeof(ta));
		(void)verdict(rv);
		if (rv == 0 && unmount(av[0], MNT_FORCE) == -1)
			die("unmount %s: %s", av[0], strerror(errno));
		return 0;
	}
	if (strcmp(op, "mknod") == 0) {
		rv = mknod(av[0], S_IFCHR | 0600, makedev(2, 2));
		if (rv == -1 && access(av[0], F_OK) == 0)
			die("mknod %s refused but the node exists", av[0]);
		(void)verdict(rv);
		if (rv == 0)
			(void)unlink(av[0]);
		return 0;
	}
	pid = (pid_t)number(av[0], 1, 0x7fffffff);
	if (strcmp(op, "see") == 0) {
		(void)printf("%s\n", get_kproc(pid, &kp) ? "visible" : "hidden");
		return 0;
	}
	if (strcmp(op, "alive") == 0) {
		if (!get_kproc(pid, &kp))
			(void)printf("gone\n");
		else
			(void)printf("%s\n",
			    kp.p_stat == SZOMB ? "zombie" : "alive");
		return 0;
	}
	if (strcmp(op, "traced") == 0) {
		if (!get_kproc(pid, &kp))
			die("no process %d", (int)pid);
		(void)printf("%s\n",
		    (kp.p_flag & P_TRACED) ? "traced" : "untraced");
		return 0;
	}
	if (strcmp(op, "traceflag") == 0) {
		if (!get_kproc(pid, &kp))
			die("no process %d", (int)pid);
		(void)printf("%d\n", kp.p_traceflag);
		return 0;
	}
	if (strcmp(op, "ptrace") == 0) {
		rv = ptrace(PT_ATTACH, pid, NULL, 0);
		(void)verdict(rv);
		if (rv == 0) {
			(void)waitpid(pid, &status, 0);
			(void)ptrace(PT_DETACH, pid, (void *)1, 0);
		}
		return 0;
	}
	if (strcmp(op, "ktrace") == 0) {
		/* fktrace returns 0 even when refused: judge by traceflag. */
		fd = open("/ktrace.out", O_CREAT | O_WRONLY | O_TRUNC, 0600);
		if (fd == -1)
			die("open /ktrace.out: %s", strerror(errno));
		(void)verdict(fktrace(fd, KTROP_SET, KTRFAC_SYSCALL, pid));
		(void)close(fd);
		return 0;
	}
	if (strcmp(op, "signal") == 0) {
		if (ac < 2)
			usage();
		return verdict(kill(pid, (int)number(av[1], 0, NSIG - 1)));
	}
	usage();
}

static int
do_exec(char **av, int ac)
{
	uint32_t id;
	long uid = -1;
	int i;

	/* exec id root [-u uid] -- prog [args] */
	if (ac < 4)
		usage();
	id = (uint32_t)number(av[0], 1, UINT32_MAX);
	for (i = 2; i < ac && strcmp(av[i], "--") != 0; i++)
		if (strcmp(av[i], "-u") == 0 && i + 1 < ac)
			uid = number(av[++i], 1, 0x7fffffff);
		else
			usage();
	if (i + 1 >= ac)
		usage();
	enter_or_die(av[1], id);
	if (uid != -1)
		become(uid);
	(void)execv(av[i + 1], av + i + 1);
	die("exec %s: %s", av[i + 1], strerror(errno));
}
#endif /* __NetBSD__ */

int
main(int argc, char **argv)
{
	const char *op;
	char **av;
	int ac;

	if (argc >= 3 && strcmp(argv[1], "-u") == 0) {
		become(number(argv[2], 1, 0x7fffffff));
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	op = argv[1];
	av = argv + 2;
	ac = argc - 2;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (strcmp(op, "bind4") == 0 && ac == 1)
		return do_bind(AF_INET, NULL, (int)number(av[0], 0, 65535));
	if (strcmp(op, "bind6") == 0 && ac == 1)
		return do_bind(AF_INET6, NULL, (int)number(av[0], 0, 65535));
	if (strcmp(op, "bindaddr4") == 0 && ac == 2)
		return do_bind(AF_INET, av[0], (int)number(av[1], 0, 65535));
	if (strcmp(op, "bindaddr6") == 0 && ac == 2)
		return do_bind(AF_INET6, av[0], (int)number(av[1], 0, 65535));
	if (strcmp(op, "connect4") == 0 && ac == 2)
		return do_connect(AF_INET, av[0], (int)number(av[1], 1, 65535));
	if (strcmp(op, "connect6") == 0 && ac == 2)
		return do_connect(AF_INET6, av[0], (int)number(av[1], 1, 65535));
	if (strcmp(op, "raw4") == 0)
		return do_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (strcmp(op, "forkloop") == 0 && ac == 1)
		return do_forkloop(number(av[0], 1, 10000000));
	if (strcmp(op, "sleep") == 0 && (ac == 1 || ac == 2)) {
		/* A target: say "ready" through a file, then wait. */
		if (ac == 2) {
			int fd = open(av[1], O_CREAT | O_WRONLY, 0644);

			if (fd == -1)
				die("create %s: %s", av[1], strerror(errno));
			(void)close(fd);
		}
		(void)sleep((unsigned)number(av[0], 1, 86400));
		return 0;
	}
	if (strncmp(op, "shm-", 4) == 0)
		return do_shm(op, av, ac);
#ifdef __NetBSD__
	if (strcmp(op, "exec") == 0)
		return do_exec(av, ac);
	return netbsd_op(op, av, ac);
#else
	(void)fill_create;
	(void)profile_value;
	die("operation '%s' needs NetBSD", op);
#endif
}

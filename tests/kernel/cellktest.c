/*	$NetBSD$	*/

/*
 * cellktest -- the in-kernel tests of secmodel_cell.
 *
 * One body of tests for both kernel tiers: /sbin/init of a bare root
 * image under QEMU (ci/ktest, freestanding, kt_raw.c), and a program run
 * on an installed NetBSD (ci/qemu's anita tier, kt_libc.c).  Every test
 * checks effects, not only return codes: a signalled process is still
 * alive, a traced process has no trace flag, a process in another cell
 * is not listed, a destroyed cell is gone from the list.
 *
 *	cellktest [-l] [-c conf] [case ...]
 *
 * The configuration (KEY=VALUE lines; /ktest.conf for init) says how the
 * module gets in (load=preload|modctl|none|loaded, kmod=PATH), what to
 * do (mode=test|record|bench), where the cell roots /r0 ... /r15 are
 * (roots=DIR, default /; each holds a raw disk node rwd0d for the device
 * rows), and for the bench how many cells to create (cells=N).  Output is line oriented and parsed by ci/ktest:
 *
 *	KTEST BEGIN <mode> load=<how>
 *	KTEST CASE <name> PASS|FAIL
 *	KTEST FAILED <name>: <what>
 *	KTEST REC <name> <errno> <hex bytes>	(mode=record)
 *	KTEST BENCH <name> <ns per op>		(mode=bench)
 *	KTEST END <passed> passed, <failed> failed
 *
 * Each case runs in its own host-root child, so a case that enters a
 * cell or crashes cannot disturb the next; cells a case leaves behind
 * are destroyed between cases (and reported, since a case must clean up).
 */

#include <sys/param.h>
#include <sys/types.h>
#include <sys/errno.h>
#include <sys/fcntl.h>
#include <sys/ioctl.h>
#include <sys/ktrace.h>
#include <sys/module.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signal.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/stat.h>
#include <sys/sysctl.h>
#include <sys/wait.h>

#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>

#include "cell_abi.h"
#include "kt.h"

#define	NODE(n)		"security.models.cell." n
#define	NROOTS		16
#define	NOBODY		32767
#define	USER		1000

static const char *const profiles[] = { NULL, "low", "medium", "high" };

static struct {
	char	load[16];
	char	mode[16];
	char	kmod[128];
	char	roots[128];
	long	cells;
} conf = { "modctl", "test", "/secmodel_cell.kmod", "", 0 };

/* Failures of the running case; printed as they happen. */
static int	case_failures;
static const char *case_name;
static int	pid1;		/* running as init of a bare image */

#define	CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		case_failures++;					\
		kt_printf("KTEST FAILED %s: line %d: ", case_name,	\
		    __LINE__);						\
		kt_printf(__VA_ARGS__);					\
		kt_printf("\n");					\
	}								\
} while (0)

#define	EXPECT(rv, want, what) do {					\
	long rv_ = (rv), want_ = (want);				\
	CHECK(rv_ == want_ || (want_ >= 0 && rv_ >= 0 && want_ == 0),	\
	    "%s: got %s, want %s", (what), kt_errname(rv_),		\
	    kt_errname(want_));						\
} while (0)

/* ------------------------------------------------------------------ */
/* The module's ABI. */

static const char *
root_of(int n)
{
	static char roots[NROOTS][160];

	(void)kt_snprintf(roots[n % NROOTS], sizeof(roots[0]), "%s/r%d",
	    conf.roots, n % NROOTS);
	return roots[n % NROOTS];
}

struct cellspec {
	const char	*name;
	int		 root;		/* index of /rN */
	unsigned	 profile;
	unsigned	 flags;
	uint16_t	 ports[4];
	unsigned	 nports;
	uint8_t		 addr4[4];	/* one allowed IPv4 address, or 0s */
};

static void
fill_req(struct cell_create_req *req, const struct cellspec *cs)
{
	unsigned i;

	kt_memset(req, 0, sizeof(*req));
	req->cr_size = sizeof(*req);
	req->cr_abi = CELL_ABI_VERSION;
	req->cr_flags = cs->flags;
	req->cr_profile = cs->profile;
	kt_memcpy(req->cr_name, cs->name, kt_strlen(cs->name));
	kt_memcpy(req->cr_root, root_of(cs->root),
	    kt_strlen(root_of(cs->root)));
	for (i = 0; i < cs->nports; i++)
		req->cr_ports[i] = cs->ports[i];
	req->cr_nports = (uint16_t)cs->nports;
	if (cs->addr4[0] != 0) {
		req->cr_addrs[0].ca_family = CELL_AF_INET;
		kt_memcpy(req->cr_addrs[0].ca_addr, cs->addr4, 4);
		req->cr_naddrs = 1;
	}
}

/* Create a cell; its id, or -errno. */
static long
cell_create(const struct cellspec *cs)
{
	struct cell_create_req req;
	size_t len;
	long rv;

	fill_req(&req, cs);
	len = sizeof(req);
	rv = kt_sysctlbyname(NODE("create"), &req, &len, &req, sizeof(req));
	return rv < 0 ? rv : (long)req.cr_id;
}

static long
cell_mk(const char *name, int root, unsigned profile)
{
	struct cellspec cs;

	kt_memset(&cs, 0, sizeof(cs));
	cs.name = name;
	cs.root = root;
	cs.profile = profile;
	return cell_create(&cs);
}

static long
cell_destroy(uint32_t id)
{

	return kt_sysctlbyname(NODE("destroy"), NULL, NULL, &id, sizeof(id));
}

static long
cell_self(void)
{
	uint32_t id;
	size_t len;
	long rv;

	len = sizeof(id);
	rv = kt_sysctlbyname(NODE("id"), &id, &len, NULL, 0);
	return rv < 0 ? rv : (long)id;
}

static long
cell_enter(uint32_t id)
{

	return kt_sysctlbyname(NODE("id"), NULL, NULL, &id, sizeof(id));
}

/* The list; the number of cells or -errno.  buf may be NULL. */
static long
cell_list(struct cell_info *buf, size_t max)
{
	size_t len;
	long rv;

	len = max * sizeof(*buf);
	rv = kt_sysctlbyname(NODE("list"), buf, &len, NULL, 0);
	return rv < 0 ? rv : (long)(len / sizeof(*buf));
}

static struct cell_info listbuf[64];

/* A cell's record from the list, or NULL. */
static const struct cell_info *
cell_info(uint32_t id)
{
	long i, n;

	n = cell_list(listbuf, 64);
	for (i = 0; i < n; i++)
		if (listbuf[i].ci_id == id)
			return &listbuf[i];
	return NULL;
}

static long
cell_stats(struct cell_stats *st)
{
	size_t len;

	len = sizeof(*st);
	return kt_sysctlbyname(NODE("stats"), st, &len, NULL, 0);
}

static struct cell_event evbuf[CELL_AUDIT_RING];

/* Events with seq >= since; how many, or -errno. */
static long
cell_events(uint64_t since)
{
	size_t len;
	long rv;

	len = sizeof(evbuf);
	rv = kt_sysctlbyname(NODE("events"), evbuf, &len, &since,
	    sizeof(since));
	return rv < 0 ? rv : (long)(len / sizeof(evbuf[0]));
}

/* Destroy every cell; how many could not be destroyed. */
static int
cell_destroy_all(void)
{
	long i, n;
	int left;

	left = 0;
	n = cell_list(listbuf, 64);
	for (i = 0; i < n; i++)
		if (cell_destroy(listbuf[i].ci_id) < 0)
			left++;
	return left;
}

/* ------------------------------------------------------------------ */
/* Processes in cells. */

typedef int (*probe_fn)(long);

/* Leave a forked child: chroot to root, enter id, drop to uid. */
static int
become(uint32_t id, int root, long uid)
{

	if (id != 0) {
		if (kt_chroot(root_of(root)) < 0 || kt_chdir("/") < 0)
			return -1;
		if (cell_enter(id) < 0)
			return -1;
	}
	if (uid != 0 && kt_setuid(uid) < 0)
		return -1;
	return 0;
}

/*
 * Run fn(arg) in a child that is in cell id (0: the host) as uid; its
 * result (0..254), or 255 when the child could not be set up.
 */
static int
run_as(uint32_t id, int root, long uid, probe_fn fn, long arg)
{
	long pid;
	int status;

	pid = kt_fork();
	if (pid == 0) {
		if (become(id, root, uid) < 0)
			kt_exit(255);
		kt_exit(fn(arg) & 0xff);
	}
	if (pid < 0)
		return 255;
	if (kt_waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
}

/* A probe's errno as its exit code: 0 or the errno (< 255). */
static int
errcode(long rv)
{

	return rv >= 0 ? 0 : (int)(-rv < 254 ? -rv : 254);
}

/* As EXPECT, for a probe's exit code. */
#define	EXPECT_RUN(code, want, what) do {				\
	int code_ = (code);						\
	CHECK(code_ != 255, "%s: probe could not start", (what));	\
	if (code_ != 255)						\
		EXPECT(code_ == 0 ? 0 : -(long)code_, (want), (what));	\
} while (0)

static int
sleeper_main(long arg)
{

	for (;;)
		kt_sleep_ms(1000);
	return 0;
}

/* A process that sleeps until killed, in cell id as uid. */
static long
sleeper(uint32_t id, int root, long uid)
{
	long pid;

	pid = kt_fork();
	if (pid == 0) {
		if (become(id, root, uid) < 0)
			kt_exit(255);
		(void)sleeper_main(0);
	}
	kt_sleep_ms(20);	/* let it get into the cell */
	return pid;
}

static void
reap(long pid)
{
	int status;

	if (pid <= 0)
		return;
	(void)kt_kill(pid, SIGKILL);
	(void)kt_waitpid(pid, &status, 0);
}

/* What the host sees of a process (kern.proc2); 0 if visible. */
static long
proc_info(long pid, struct kinfo_proc2 *kp)
{
	int mib[6];
	size_t len;
	long rv;

	mib[0] = CTL_KERN;
	mib[1] = KERN_PROC2;
	mib[2] = KERN_PROC_PID;
	mib[3] = (int)pid;
	mib[4] = sizeof(*kp);
	mib[5] = 1;
	len = sizeof(*kp);
	rv = kt_sysctl(mib, 6, kp, &len, NULL, 0);
	if (rv < 0)
		return rv;
	return len == sizeof(*kp) ? 0 : -ESRCH;
}

/* ------------------------------------------------------------------ */
/* Probes: run in a child, return errcode(). */

static int
probe_kill0(long pid)
{

	return errcode(kt_kill(pid, 0));
}

static int
probe_killterm(long pid)
{

	return errcode(kt_kill(pid, SIGKILL));
}

static int
probe_see(long pid)
{
	struct kinfo_proc2 kp;

	return errcode(proc_info(pid, &kp));
}

static int
probe_ptrace(long pid)
{
	long rv;

	rv = kt_ptrace(PT_ATTACH, pid, NULL, 0);
	if (rv == 0)
		(void)kt_ptrace(PT_DETACH, pid, (void *)1, 0);
	return errcode(rv);
}

static int
probe_ktrace(long pid)
{
	int fds[2];
	long rv;

	if (kt_pipe(fds) < 0)
		return 254;
	rv = kt_fktrace(fds[1], KTROP_SET, KTRFAC_SYSCALL, pid);
	kt_sleep_ms(10);
	return errcode(rv);
}

static int
probe_nice(long pid)
{

	return errcode(kt_setpriority(PRIO_PROCESS, pid, 15));
}

static int
probe_rlimit(long pid)
{
	int mib[5];
	uint64_t v;

	mib[0] = CTL_PROC;
	mib[1] = (int)pid;
	mib[2] = PROC_PID_LIMIT;
	mib[3] = PROC_PID_LIMIT_NOFILE;
	mib[4] = PROC_PID_LIMIT_TYPE_SOFT;
	v = 7;
	return errcode(kt_sysctl(mib, 5, NULL, NULL, &v, sizeof(v)));
}

static int
probe_socket(long which)
{
	long s;

	switch (which) {
	case 4:
		s = kt_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		break;
	case 6:
		s = kt_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
		break;
	default:
		s = kt_socket(PF_ROUTE, SOCK_RAW, 0);
		break;
	}
	if (s >= 0)
		(void)kt_close((int)s);
	return errcode(s);
}

/* arg: port | family << 16 | (addr is 127.0.0.1) << 24 */
static int
probe_bind(long arg)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int port, family, loop;
	long s, rv;

	port = arg & 0xffff;
	family = (arg >> 16) & 0xff;
	loop = (arg >> 24) & 1;
	s = kt_socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return 254;
	if (family == 6) {
		kt_memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_len = sizeof(sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		rv = kt_bind((int)s, (struct sockaddr *)&sin6, sizeof(sin6));
	} else {
		kt_memset(&sin, 0, sizeof(sin));
		sin.sin_len = sizeof(sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		if (loop)
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rv = kt_bind((int)s, (struct sockaddr *)&sin, sizeof(sin));
	}
	(void)kt_close((int)s);
	return errcode(rv);
}

#define	BIND4(port)	((long)(port) | 4L << 16)
#define	BIND6(port)	((long)(port) | 6L << 16)
#define	BINDLO(port)	((long)(port) | 4L << 16 | 1L << 24)

static int
probe_modload(long arg)
{
	modctl_load_t ml;

	kt_memset(&ml, 0, sizeof(ml));
	ml.ml_filename = "/nonexistent.kmod";
	return errcode(kt_modctl(MODCTL_LOAD, &ml));
}

static int
probe_mknod(long arg)
{
	long rv;

	rv = kt_mknod("/nod", S_IFCHR | 0600, 0);
	if (rv == 0)
		(void)kt_unlink("/nod");
	return errcode(rv);
}

static int
probe_chroot(long arg)
{

	return errcode(kt_chroot("/"));
}

static int
probe_settime(long arg)
{

	/* Set the clock to what it is, to the second. */
	return errcode(kt_settime(kt_realtime()));
}

static int
probe_sysctl_write(long arg)
{
	char name[64];
	size_t len;
	long rv;

	len = sizeof(name);
	rv = kt_sysctlbyname("kern.hostname", name, &len, NULL, 0);
	if (rv < 0)
		return 254;
	return errcode(kt_sysctlbyname("kern.hostname", NULL, NULL, name,
	    len));
}

/*
 * unmount(2) asks kauth (MOUNT_UNMOUNT) before it checks that the path
 * is the root of a mount: the cell's root is not, so a permitted call
 * fails with EINVAL and touches nothing.
 */
static int
probe_unmount(long arg)
{

	return errcode(kt_unmount("/", 0));
}

static int
probe_rawdisk(long arg)
{
	long fd;

	fd = kt_open("/rwd0d", O_RDONLY, 0);
	if (fd >= 0)
		(void)kt_close((int)fd);
	return errcode(fd);
}

static int
probe_iopl(long arg)
{
	long rv;

	rv = kt_iopl(3);
	if (rv == 0)
		(void)kt_iopl(0);
	return errcode(rv);
}

static int
probe_create(long arg)
{

	return errcode(cell_mk("intruder", 0, CELL_PROFILE_LOW));
}

static int
probe_destroy(long id)
{

	return errcode(cell_destroy((uint32_t)id));
}

static int
probe_list(long arg)
{

	return errcode(cell_list(NULL, 0));
}

static int
probe_stats(long arg)
{
	struct cell_stats st;

	return errcode(cell_stats(&st));
}

static int
probe_events(long arg)
{

	return errcode(cell_events(1));
}

static int
probe_enter(long id)
{

	return errcode(cell_enter((uint32_t)id));
}

static int
probe_self(long want)
{

	return cell_self() == want ? 0 : 1;
}

/* Open and close a file, a pipe and sockets, then exit. */
static int
probe_files(long arg)
{
	int fds[2];
	long fd;

	fd = kt_open("/", O_RDONLY, 0);
	if (fd >= 0)
		(void)kt_close((int)fd);
	if (kt_pipe(fds) == 0) {
		(void)kt_close(fds[0]);
		(void)kt_close(fds[1]);
	}
	fd = kt_socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0)
		(void)kt_close((int)fd);
	fd = kt_socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd >= 0)
		(void)kt_close((int)fd);
	/* And leave some open for exit to close. */
	(void)kt_pipe(fds);
	(void)kt_socket(AF_INET, SOCK_DGRAM, 0);
	return 0;
}

static int
probe_forkloop(long n)
{
	long i, pid;
	int status;

	for (i = 0; i < n; i++) {
		pid = kt_fork();
		if (pid == 0)
			kt_exit(0);
		if (pid < 0 || kt_waitpid(pid, &status, 0) != pid)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The cases. */

static void
t_abi(void)
{
	char name[16];
	size_t len;
	int v;
	long rv;

	len = sizeof(v);
	rv = kt_sysctlbyname(NODE("abi_version"), &v, &len, NULL, 0);
	EXPECT(rv, 0, "abi_version");
	CHECK(rv < 0 || v == CELL_ABI_VERSION, "abi_version %d", v);
	len = sizeof(name);
	rv = kt_sysctlbyname(NODE("name"), name, &len, NULL, 0);
	EXPECT(rv, 0, "name");
	CHECK(rv < 0 || kt_strcmp(name, "cell") == 0, "name '%s'", name);
	CHECK(cell_self() == 0, "host is in cell %ld", cell_self());
}

static void
t_enter_rules(void)
{
	long id;

	id = cell_mk("e", 1, CELL_PROFILE_HIGH);
	CHECK(id > 0, "create: %s", kt_errname(id));
	if (id <= 0)
		return;
	/* Not chrooted, or chrooted elsewhere, or not root: refused. */
	EXPECT_RUN(run_as(0, 0, 0, probe_enter, id), -EPERM, "unchrooted");
	EXPECT_RUN(run_as(0, 0, 0, probe_self, 0), 0, "still host");
	{
		long pid;
		int status, code;

		pid = kt_fork();
		if (pid == 0) {
			if (kt_chroot(root_of(2)) < 0)
				kt_exit(254);
			kt_exit(errcode(cell_enter((uint32_t)id)));
		}
		code = kt_waitpid(pid, &status, 0) == pid &&
		    WIFEXITED(status) ? WEXITSTATUS(status) : 255;
		EXPECT(code == 0 ? 0 : -code, -EPERM, "chrooted elsewhere");

		pid = kt_fork();
		if (pid == 0) {
			if (kt_chroot(root_of(1)) < 0 ||
			    kt_setuid(USER) < 0)
				kt_exit(254);
			kt_exit(errcode(cell_enter((uint32_t)id)));
		}
		code = kt_waitpid(pid, &status, 0) == pid &&
		    WIFEXITED(status) ? WEXITSTATUS(status) : 255;
		EXPECT(code == 0 ? 0 : -code, -EPERM, "host non-root");
	}
	/* The control: host root chrooted to the root enters. */
	EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_self, id), 0,
	    "entered");
	EXPECT(cell_destroy((uint32_t)id), 0, "destroy");
}

static void
t_no_leave(void)
{
	long a, b;

	a = cell_mk("a", 1, CELL_PROFILE_LOW);
	b = cell_mk("b", 2, CELL_PROFILE_LOW);
	CHECK(a > 0 && b > 0, "create");
	EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_enter, 0), -EPERM,
	    "enter 0 from a cell");
	EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_enter, b), -EPERM,
	    "switch cells");
	EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_self, a), 0,
	    "still in a");
	(void)cell_destroy((uint32_t)a);
	(void)cell_destroy((uint32_t)b);
}

static void
t_celled_control(void)
{
	unsigned p;
	long id, victim;

	victim = cell_mk("victim", 2, CELL_PROFILE_HIGH);
	for (p = CELL_PROFILE_LOW; p <= CELL_PROFILE_HIGH; p++) {
		id = cell_mk(profiles[p], 1, p);
		CHECK(id > 0, "create %s", profiles[p]);
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_create, 0),
		    -EPERM, "create from a cell");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_destroy, victim),
		    -EPERM, "destroy from a cell");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_list, 0), -EPERM,
		    "list from a cell");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_stats, 0),
		    -EPERM, "stats from a cell");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_events, 0),
		    -EPERM, "events from a cell");
		(void)cell_destroy((uint32_t)id);
	}
	CHECK(cell_info((uint32_t)victim) != NULL, "victim destroyed");
	/* Host non-root may not create either. */
	EXPECT_RUN(run_as(0, 0, USER, probe_create, 0), -EPERM,
	    "create as host non-root");
	(void)cell_destroy((uint32_t)victim);
}

/*
 * The process-scope rows, by effect, in every profile: from a cell to
 * the host, to another cell, and from host non-root into a cell.
 */
struct crossprobe {
	const char	*what;
	probe_fn	 fn;
};

static const struct crossprobe crossprobes[] = {
	{ "signal 0", probe_kill0 },
	{ "see", probe_see },
	{ "ptrace", probe_ptrace },
	{ "ktrace", probe_ktrace },
	{ "nice", probe_nice },
	{ "rlimit", probe_rlimit },
	{ "kill", probe_killterm },
};

/* The target after a denied probe: alive, untraced, not reniced. */
static void
check_untouched(long pid, const char *what, const char *dir)
{
	struct kinfo_proc2 kp;

	CHECK(proc_info(pid, &kp) == 0, "%s %s: target gone", what, dir);
	CHECK(kp.p_stat != LSZOMB, "%s %s: target killed", what, dir);
	CHECK((kp.p_flag & P_TRACED) == 0, "%s %s: target traced", what,
	    dir);
	CHECK(kp.p_traceflag == 0, "%s %s: trace flag %x", what, dir,
	    (unsigned)kp.p_traceflag);
	CHECK(kp.p_nice == NZERO, "%s %s: nice %d", what, dir,
	    (int)kp.p_nice - NZERO);
}

static void
cross_one(const char *dir, uint32_t from, int from_root, long from_uid,
    uint32_t to, int to_root, long to_uid)
{
	const struct crossprobe *cp;
	long target;
	int code;
	unsigned i;

	for (i = 0; i < __arraycount(crossprobes); i++) {
		cp = &crossprobes[i];
		target = sleeper(to, to_root, to_uid);
		code = run_as(from, from_root, from_uid, cp->fn, target);
		CHECK(code != 255, "%s %s: probe did not start", cp->what,
		    dir);
		/* fktrace(2) reports success when it is refused. */
		CHECK(code != 0 || cp->fn == probe_ktrace, "%s %s: allowed",
		    cp->what, dir);
		check_untouched(target, cp->what, dir);
		reap(target);
	}
}

static void
t_process_isolation(void)
{
	unsigned p;
	long a, b, target;

	for (p = CELL_PROFILE_LOW; p <= CELL_PROFILE_HIGH; p++) {
		a = cell_mk("a", 1, p);
		b = cell_mk("b", 2, p);
		CHECK(a > 0 && b > 0, "create (%s)", profiles[p]);
		cross_one("cell->host", (uint32_t)a, 1, 0, 0, 0, 0);
		cross_one("cell->host same uid", (uint32_t)a, 1, USER, 0, 0,
		    USER);
		cross_one("cell->cell", (uint32_t)a, 1, 0, (uint32_t)b, 2, 0);
		cross_one("host user->cell", 0, 0, USER, (uint32_t)a, 1,
		    USER);

		/* Controls: the same probes succeed within one cell. */
		target = sleeper((uint32_t)a, 1, 0);
		EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_kill0, target), 0,
		    "signal within a cell");
		EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_see, target), 0,
		    "see within a cell");
		EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_nice, target), 0,
		    "nice within a cell");
		reap(target);
		/* And host root reaches into every cell. */
		target = sleeper((uint32_t)a, 1, 0);
		EXPECT(probe_see(target), 0, "host root sees");
		EXPECT(probe_kill0(target), 0, "host root signals");
		reap(target);
		(void)cell_destroy((uint32_t)a);
		(void)cell_destroy((uint32_t)b);
	}
}

/*
 * Under low the model defers, and the kernel's own answer stands: the
 * result on the bare test image (read-only root, nothing to load);
 * elsewhere only "not denied" is checked, since the system differs.
 */
struct sysrow {
	const char	*what;
	probe_fn	 fn;
	long		 low;		/* the bare image's answer under low */
};

static const struct sysrow sysrows[] = {
	{ "raw socket v4", probe_socket, 0 },
	{ "raw socket v6", probe_socket, 0 },
	{ "routing socket", probe_socket, 0 },
	{ "modload", probe_modload, -ENOENT },
	{ "mknod", probe_mknod, -EROFS },
	{ "chroot", probe_chroot, 0 },
	{ "settime", probe_settime, 0 },
	{ "sysctl write", probe_sysctl_write, 0 },
	{ "unmount", probe_unmount, -EINVAL },
	{ "raw disk open", probe_rawdisk, 0 },
	{ "iopl", probe_iopl, 0 },
};

static const long sysrow_arg[] = { 4, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

static void
t_host_rows(void)
{
	const struct sysrow *sr;
	unsigned p, i;
	long id;
	int code;

	for (p = CELL_PROFILE_LOW; p <= CELL_PROFILE_HIGH; p++) {
		id = cell_mk(profiles[p], 1, p);
		CHECK(id > 0, "create %s", profiles[p]);
		for (i = 0; i < __arraycount(sysrows); i++) {
			sr = &sysrows[i];
			code = run_as((uint32_t)id, 1, 0, sr->fn,
			    sysrow_arg[i]);
			CHECK(code != 255, "%s: probe did not start",
			    sr->what);
			if (p == CELL_PROFILE_LOW && pid1)
				EXPECT(code == 0 ? 0 : -code, sr->low,
				    sr->what);
			else if (p == CELL_PROFILE_LOW)
				CHECK(code != EPERM && code != EACCES,
				    "%s under low: denied", sr->what);
			else
				CHECK(code == EPERM || code == EACCES,
				    "%s under %s: %s, want EPERM/EACCES",
				    sr->what, profiles[p],
				    kt_errname(-code));
		}
		(void)cell_destroy((uint32_t)id);
	}
	/* The relax flag opens raw sockets, and only those. */
	{
		struct cellspec cs;

		kt_memset(&cs, 0, sizeof(cs));
		cs.name = "rawok";
		cs.root = 1;
		cs.profile = CELL_PROFILE_HIGH;
		cs.flags = CELL_F_ALLOW_RAWSOCK;
		id = cell_create(&cs);
		CHECK(id > 0, "create rawok");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_socket, 4), 0,
		    "raw v4 with allow_rawsock");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_socket, 6), 0,
		    "raw v6 with allow_rawsock");
		code = run_as((uint32_t)id, 1, 0, probe_socket, 0);
		CHECK(code == EPERM || code == EACCES,
		    "routing socket with allow_rawsock: %s",
		    kt_errname(-code));
		(void)cell_destroy((uint32_t)id);
	}
}

static void
t_bind_ports(void)
{
	struct cellspec cs;
	unsigned p;
	long a, b;

	for (p = CELL_PROFILE_LOW; p <= CELL_PROFILE_HIGH; p++) {
		kt_memset(&cs, 0, sizeof(cs));
		cs.name = "owner";
		cs.root = 1;
		cs.profile = p;
		cs.ports[0] = 5001;
		cs.ports[1] = 5002;
		cs.nports = 2;
		a = cell_create(&cs);
		b = cell_mk("other", 2, p);
		CHECK(a > 0 && b > 0, "create");
		/* A second reservation of the same port is refused. */
		cs.name = "thief";
		EXPECT(cell_create(&cs), -EADDRINUSE, "double reservation");

		EXPECT_RUN(run_as((uint32_t)b, 2, 0, probe_bind,
		    BIND4(5001)), -EACCES, "other cell binds v4");
		EXPECT_RUN(run_as((uint32_t)b, 2, 0, probe_bind,
		    BIND6(5002)), -EACCES, "other cell binds v6");
		EXPECT_RUN(run_as(0, 0, USER, probe_bind, BIND4(5001)),
		    -EACCES, "host user binds");
		EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_bind,
		    BIND4(5001)), 0, "owner binds v4");
		EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_bind,
		    BIND6(5002)), 0, "owner binds v6");
		EXPECT_RUN(run_as((uint32_t)b, 2, 0, probe_bind,
		    BIND4(5003)), 0, "unreserved port");
		EXPECT_RUN(run_as((uint32_t)b, 2, 0, probe_bind, BIND4(0)),
		    0, "port 0");
		EXPECT(probe_bind(BIND4(5001)), 0, "host root binds");
		(void)cell_destroy((uint32_t)a);
		(void)cell_destroy((uint32_t)b);
	}
	/* The reservation is gone with its cell. */
	EXPECT_RUN(run_as(0, 0, USER, probe_bind, BIND4(5001)), 0,
	    "host user binds after destroy");
}

static void
t_bind_addrs(void)
{
	struct cellspec cs;
	long id;

	kt_memset(&cs, 0, sizeof(cs));
	cs.name = "listed";
	cs.root = 1;
	cs.profile = CELL_PROFILE_HIGH;
	cs.addr4[0] = 127;
	cs.addr4[3] = 1;
	id = cell_create(&cs);
	CHECK(id > 0, "create");
	EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_bind, BINDLO(5100)), 0,
	    "listed address");
	EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_bind, BIND4(5100)),
	    -EACCES, "wildcard with a port");
	EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_bind, BIND6(5100)),
	    -EACCES, "v6 wildcard, v4 list");
	EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_bind, BIND4(0)), 0,
	    "wildcard port 0");
	(void)cell_destroy((uint32_t)id);
}

static void
t_destroy_busy(void)
{
	long id, pid;
	int status;

	id = cell_mk("busy", 1, CELL_PROFILE_HIGH);
	CHECK(id > 0, "create");
	pid = sleeper((uint32_t)id, 1, 0);
	EXPECT(cell_destroy((uint32_t)id), -EBUSY, "live member");
	(void)kt_kill(pid, SIGKILL);
	kt_sleep_ms(50);
	{
		struct kinfo_proc2 kp;

		CHECK(proc_info(pid, &kp) == 0 && kp.p_stat == LSZOMB,
		    "member is not a zombie");
	}
	EXPECT(cell_destroy((uint32_t)id), -EBUSY, "zombie member");
	(void)kt_waitpid(pid, &status, 0);
	EXPECT(cell_destroy((uint32_t)id), 0, "reaped member");
	CHECK(cell_info((uint32_t)id) == NULL, "still listed");
	EXPECT(cell_destroy((uint32_t)id), -ENOENT, "destroy twice");
	CHECK(run_as((uint32_t)id, 1, 0, probe_self, id) == 255,
	    "entered a destroyed cell");
}

static void
t_destroy_after_files(void)
{
	long id;
	int i;

	for (i = 0; i < 3; i++) {
		id = cell_mk("files", 1, CELL_PROFILE_HIGH);
		CHECK(id > 0, "create");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_files, 0), 0,
		    "member with files");
		EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_forkloop, 3), 0,
		    "member with children");
		EXPECT(cell_destroy((uint32_t)id), 0,
		    "destroy after the last member is reaped");
		if (cell_info((uint32_t)id) != NULL)
			(void)kt_printf("KTEST NOTE cell %ld left\n", id);
	}
}

static void
t_ids_not_reused(void)
{
	const struct cell_info *ci;
	long a, b, c;

	a = cell_mk("one", 1, CELL_PROFILE_HIGH);
	EXPECT_RUN(run_as((uint32_t)a, 1, 0, probe_files, 0), 0, "member");
	EXPECT(cell_destroy((uint32_t)a), 0, "destroy");
	b = cell_mk("one", 1, CELL_PROFILE_LOW);
	CHECK(b > a, "id %ld after %ld", b, a);
	/* The old id names nothing; the new cell is only itself. */
	EXPECT(cell_destroy((uint32_t)a), -ENOENT, "old id");
	ci = cell_info((uint32_t)b);
	CHECK(ci != NULL && ci->ci_profile == CELL_PROFILE_LOW,
	    "new cell's record");
	c = cell_mk("two", 2, CELL_PROFILE_HIGH);
	CHECK(c > b, "id %ld after %ld", c, b);
	/* A member of the new cell is still isolated from the other. */
	{
		long target = sleeper((uint32_t)c, 2, 0);

		int code = run_as((uint32_t)b, 1, 0, probe_kill0, target);

		CHECK(code != 0 && code != 255,
		    "new cell signals another: %s", kt_errname(-code));
		check_untouched(target, "signal", "new cell->other");
		reap(target);
	}
	(void)cell_destroy((uint32_t)b);
	(void)cell_destroy((uint32_t)c);
}

static void
t_forkloop(void)
{
	long id;

	id = cell_mk("forks", 1, CELL_PROFILE_HIGH);
	CHECK(id > 0, "create");
	EXPECT_RUN(run_as((uint32_t)id, 1, 0, probe_forkloop, 10000), 0,
	    "10000 fork/exit in a cell");
	EXPECT(cell_destroy((uint32_t)id), 0, "destroy after the loop");
}

static void
t_counters_audit(void)
{
	struct cell_stats st0, st1;
	const struct cell_info *ci;
	uint64_t before, denies;
	long id, n, i, target, mine;
	unsigned s;

	id = cell_mk("audited", 1, CELL_PROFILE_HIGH);
	CHECK(id > 0, "create");
	EXPECT(cell_stats(&st0), 0, "stats");
	before = st0.st_audit_head;
	target = sleeper(0, 0, 0);
	for (i = 0; i < 5; i++)
		(void)run_as((uint32_t)id, 1, 0, probe_kill0, target);
	(void)run_as((uint32_t)id, 1, 0, probe_modload, 0);
	reap(target);
	EXPECT(cell_stats(&st1), 0, "stats");
	n = cell_events(before + 1);
	CHECK(n > 0, "no events");
	mine = 0;
	for (i = 0; i < n; i++)
		if (evbuf[i].ev_cell == (uint32_t)id)
			mine++;
	ci = cell_info((uint32_t)id);
	CHECK(ci != NULL, "listed");
	denies = 0;
	for (s = 0; ci != NULL && s < CELL_SCOPE_MAX; s++)
		denies += ci->ci_denies[s];
	CHECK((long)denies == mine, "counters %lu, events %ld",
	    (unsigned long)denies, mine);
	CHECK(mine >= 6, "%ld events for 6 denials", mine);
	CHECK(st1.st_audit_head >= before + (uint64_t)mine,
	    "audit head %lu", (unsigned long)st1.st_audit_head);
	(void)cell_destroy((uint32_t)id);
}

static void
t_list_stats(void)
{
	struct cell_stats st;
	const struct cell_info *ci;
	long a, b, n, pid;

	a = cell_mk("listed-a", 1, CELL_PROFILE_LOW);
	b = cell_mk("listed-b", 2, CELL_PROFILE_MEDIUM);
	n = cell_list(NULL, 0);
	CHECK(n == 2, "list size %ld", n);
	ci = cell_info((uint32_t)a);
	CHECK(ci != NULL && kt_strcmp(ci->ci_name, "listed-a") == 0 &&
	    kt_strcmp(ci->ci_root, "/r1") == 0, "a's record");
	ci = cell_info((uint32_t)b);
	CHECK(ci != NULL && ci->ci_profile == CELL_PROFILE_MEDIUM,
	    "b's record");
	EXPECT(cell_stats(&st), 0, "stats");
	CHECK(st.st_ncells == 2, "stats ncells %u", st.st_ncells);
	CHECK(st.st_size == sizeof(st), "stats size %u", st.st_size);
	/* The sampler sees a member within two seconds. */
	pid = sleeper((uint32_t)a, 1, 0);
	kt_sleep_ms(2500);
	ci = cell_info((uint32_t)a);
	CHECK(ci != NULL && ci->ci_nprocs == 1, "sampled procs %u",
	    ci != NULL ? ci->ci_nprocs : 0);
	CHECK(ci != NULL && ci->ci_vmsize > 0, "sampled vmsize");
	reap(pid);
	(void)cell_destroy((uint32_t)a);
	(void)cell_destroy((uint32_t)b);
}

static void
t_bad_requests(void)
{
	struct cell_create_req req;
	struct cellspec cs;
	size_t len;
	long a;

	a = cell_mk("dup", 1, CELL_PROFILE_HIGH);
	EXPECT(cell_mk("dup", 2, CELL_PROFILE_HIGH), -EEXIST, "dup name");
	EXPECT(cell_mk("1digit", 1, 0), -EINVAL, "no profile");
	EXPECT(cell_mk("", 1, CELL_PROFILE_HIGH), -EINVAL, "empty name");
	kt_memset(&cs, 0, sizeof(cs));
	cs.name = "badflags";
	cs.root = 1;
	cs.profile = CELL_PROFILE_HIGH;
	cs.flags = 0x80;
	EXPECT(cell_create(&cs), -EINVAL, "unknown flag");
	fill_req(&req, &cs);
	req.cr_flags = 0;
	len = sizeof(req);
	EXPECT(kt_sysctlbyname(NODE("create"), &req, &len, &req,
	    sizeof(req) - 8), -EINVAL, "short request");
	kt_memcpy(req.cr_root, "/nonexistent", 13);
	EXPECT(kt_sysctlbyname(NODE("create"), &req, &len, &req,
	    sizeof(req)), -ENOENT, "missing root");
	EXPECT(cell_destroy(999999), -ENOENT, "destroy unknown");
	(void)cell_destroy((uint32_t)a);
}

/* Runs last: needs no cell to exist, and leaves the module loaded. */
static void
t_unload(void)
{
	modctl_load_t ml;
	size_t len;
	long id;
	int level;

	len = sizeof(level);
	if (kt_sysctlbyname("kern.securelevel", &level, &len, NULL, 0) < 0)
		level = -1;
	kt_printf("KTEST NOTE kern.securelevel %d\n", level);
	if (level > 0) {
		/* modunload(8) is refused above securelevel 0. */
		kt_printf("KTEST SKIP unload: kern.securelevel %d\n", level);
		return;
	}
	id = cell_mk("pin", 1, CELL_PROFILE_HIGH);
	CHECK(id > 0, "create");
	EXPECT(kt_modctl(MODCTL_UNLOAD, __UNCONST("secmodel_cell")),
	    -EBUSY, "unload with a cell");
	CHECK(cell_info((uint32_t)id) != NULL, "cell gone after unload");
	EXPECT(cell_destroy((uint32_t)id), 0, "destroy");
	EXPECT(kt_modctl(MODCTL_UNLOAD, __UNCONST("secmodel_cell")), 0,
	    "unload with no cell");
	EXPECT(kt_sysctlbyname(NODE("abi_version"), NULL, NULL, NULL, 0),
	    -ENOENT, "tree after unload");
	kt_memset(&ml, 0, sizeof(ml));
	ml.ml_filename = conf.kmod;
	EXPECT(kt_modctl(MODCTL_LOAD, &ml), 0, "load again");
	id = cell_mk("again", 1, CELL_PROFILE_HIGH);
	CHECK(id > 0, "create after reload: %s", kt_errname(id));
	CHECK(id == 1, "ids start again at 1 in a new module: %ld", id);
	(void)cell_destroy((uint32_t)id);
}

struct ktcase {
	const char	*name;
	void		(*fn)(void);
};

static const struct ktcase cases[] = {
	{ "abi", t_abi },
	{ "enter_rules", t_enter_rules },
	{ "no_leave", t_no_leave },
	{ "celled_control", t_celled_control },
	{ "process_isolation", t_process_isolation },
	{ "host_rows", t_host_rows },
	{ "bind_ports", t_bind_ports },
	{ "bind_addrs", t_bind_addrs },
	{ "destroy_busy", t_destroy_busy },
	{ "destroy_after_files", t_destroy_after_files },
	{ "ids_not_reused", t_ids_not_reused },
	{ "forkloop", t_forkloop },
	{ "counters_audit", t_counters_audit },
	{ "list_stats", t_list_stats },
	{ "bad_requests", t_bad_requests },
	{ "unload", t_unload },
};

/* ------------------------------------------------------------------ */
/* Modes. */

static int
run_case(const struct ktcase *kc)
{
	long pid;
	int status, ok, left;

	pid = kt_fork();
	if (pid == 0) {
		case_name = kc->name;
		case_failures = 0;
		kc->fn();
		kt_exit(case_failures == 0 ? 0 : 1);
	}
	ok = pid > 0 && kt_waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (pid > 0 && !WIFEXITED(status))
		kt_printf("KTEST FAILED %s: case process died (status %x)\n",
		    kc->name, (unsigned)status);
	left = cell_destroy_all();
	if (left != 0) {
		kt_printf("KTEST FAILED %s: %d cells could not be destroyed "
		    "after the case\n", kc->name, left);
		ok = 0;
	}
	kt_printf("KTEST CASE %s %s\n", kc->name, ok ? "PASS" : "FAIL");
	return ok;
}

static int
mode_test(int argc, char **argv)
{
	int passed, failed, i, j, want;

	passed = failed = 0;
	for (i = 0; i < (int)__arraycount(cases); i++) {
		want = argc == 0;
		for (j = 0; j < argc; j++)
			if (kt_strcmp(argv[j], cases[i].name) == 0)
				want = 1;
		if (!want)
			continue;
		if (run_case(&cases[i]))
			passed++;
		else
			failed++;
	}
	kt_printf("KTEST END %d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}

/* Hex dump of one raw answer, for the Python backend's fixtures. */
static void
rec(const char *name, long rv, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	char line[160];
	size_t i, n;

	kt_printf("KTEST REC %s %s %lu\n", name, kt_errname(rv),
	    (unsigned long)(rv < 0 ? 0 : len));
	for (i = 0; rv >= 0 && i < len; i += 64) {
		n = 0;
		for (; n / 2 < 64 && i + n / 2 < len; n += 2)
			(void)kt_snprintf(line + n, 3, "%02x",
			    p[i + n / 2]);
		line[n] = '\0';
		kt_printf("KTEST HEX %s %s\n", name, line);
	}
}

static int
mode_record(void)
{
	static struct cell_info infos[4];
	struct cell_create_req req;
	struct cell_stats st;
	struct cellspec cs;
	uint32_t id;
	size_t len;
	long rv, a, b, pid;
	int v;

	len = sizeof(v);
	rv = kt_sysctlbyname(NODE("abi_version"), &v, &len, NULL, 0);
	rec("abi_version", rv, &v, len);

	kt_memset(&cs, 0, sizeof(cs));
	cs.name = "web";
	cs.root = 1;
	cs.profile = CELL_PROFILE_HIGH;
	cs.ports[0] = 8080;
	cs.nports = 1;
	cs.addr4[0] = 127;
	cs.addr4[3] = 1;
	fill_req(&req, &cs);
	len = sizeof(req);
	rv = kt_sysctlbyname(NODE("create"), &req, &len, &req, sizeof(req));
	rec("create", rv, &req, len);
	a = rv < 0 ? rv : (long)req.cr_id;
	b = cell_mk("db", 2, CELL_PROFILE_LOW);

	fill_req(&req, &cs);		/* the answer set cr_id */
	rv = kt_sysctlbyname(NODE("create"), &req, &len, &req, sizeof(req));
	rec("create_duplicate", rv, NULL, 0);
	req.cr_id = 7;
	rv = kt_sysctlbyname(NODE("create"), &req, &len, &req, sizeof(req));
	rec("create_id_set", rv, NULL, 0);
	kt_memset(&cs, 0, sizeof(cs));
	cs.name = "thief";
	cs.root = 2;
	cs.profile = CELL_PROFILE_HIGH;
	cs.ports[0] = 8080;
	cs.nports = 1;
	rec("create_port_taken", cell_create(&cs), NULL, 0);
	rec("create_bad_profile", cell_mk("bad", 1, 9), NULL, 0);

	/* A member for the sampler and a few denials for the counters. */
	pid = sleeper((uint32_t)a, 1, 0);
	(void)run_as((uint32_t)a, 1, 0, probe_kill0, 1);
	(void)run_as((uint32_t)a, 1, 0, probe_modload, 0);
	kt_sleep_ms(2500);

	len = 0;
	rv = kt_sysctlbyname(NODE("list"), NULL, &len, NULL, 0);
	rec("list_size", rv, &len, sizeof(len));
	len = sizeof(infos);
	rv = kt_sysctlbyname(NODE("list"), infos, &len, NULL, 0);
	rec("list", rv, infos, len);
	len = sizeof(infos[0]);
	rv = kt_sysctlbyname(NODE("list"), infos, &len, NULL, 0);
	rec("list_short", rv, NULL, 0);
	len = sizeof(st);
	rv = kt_sysctlbyname(NODE("stats"), &st, &len, NULL, 0);
	rec("stats", rv, &st, len);
	rv = cell_events(1);
	rec("events", rv, evbuf, rv < 0 ? 0 : (size_t)rv * sizeof(evbuf[0]));
	id = (uint32_t)a;
	rec("destroy_busy", cell_destroy(id), NULL, 0);
	rec("destroy_unknown", cell_destroy(424242), NULL, 0);
	rec("enter_unchrooted", cell_enter(id), NULL, 0);
	len = sizeof(id);
	rv = kt_sysctlbyname(NODE("id"), &id, &len, NULL, 0);
	rec("id_host", rv, &id, len);
	reap(pid);
	rec("destroy", cell_destroy((uint32_t)a), NULL, 0);
	(void)cell_destroy((uint32_t)b);
	kt_printf("KTEST END 1 passed, 0 failed\n");
	return 0;
}

static void
bench_kill_loop(const char *name, long target)
{
	uint64_t t0, t1;
	long i, n = 20000;

	t0 = kt_nanotime();
	for (i = 0; i < n; i++)
		(void)kt_kill(target, 0);
	t1 = kt_nanotime();
	kt_printf("KTEST BENCH %s %lu\n", name, (unsigned long)((t1 - t0) / n));
}

/* kill(pid, 0) to a process of the cell with a credential of its own. */
static int
bench_kill(long target)
{

	bench_kill_loop("kill0", target);
	return 0;
}

/* The same to a child, which shares the caller's credential. */
static int
bench_kill_shared(long arg)
{
	long child;
	int status;

	child = kt_fork();
	if (child == 0)
		(void)sleeper_main(0);
	bench_kill_loop("kill0_shared", child);
	(void)kt_kill(child, SIGKILL);
	(void)kt_waitpid(child, &status, 0);
	return 0;
}

static int
bench_bind(long arg)
{
	struct sockaddr_in sin;
	uint64_t t0, t1;
	long i, s, n = 3000;

	kt_memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	t0 = kt_nanotime();
	for (i = 0; i < n; i++) {
		s = kt_socket(AF_INET, SOCK_DGRAM, 0);
		sin.sin_port = htons((uint16_t)(20000 + i % 20000));
		(void)kt_bind((int)s, (struct sockaddr *)&sin, sizeof(sin));
		(void)kt_close((int)s);
	}
	t1 = kt_nanotime();
	kt_printf("KTEST BENCH bind %lu\n", (unsigned long)((t1 - t0) / n));
	return 0;
}

static int
mode_bench(void)
{
	char name[32];
	long id, i, target;

	id = 0;
	if (kt_strcmp(conf.load, "none") != 0) {
		for (i = 0; i < conf.cells - 1; i++) {
			(void)kt_snprintf(name, sizeof(name), "pad%ld", i);
			if (cell_mk(name, 2, CELL_PROFILE_HIGH) < 0) {
				kt_printf("KTEST FAILED bench: create %s\n",
				    name);
				return 1;
			}
		}
		id = cell_mk("bench", 1, CELL_PROFILE_HIGH);
		if (id < 0) {
			kt_printf("KTEST FAILED bench: create\n");
			return 1;
		}
	}
	target = id != 0 ? sleeper((uint32_t)id, 1, 0) : sleeper(0, 0, 0);
	(void)run_as((uint32_t)id, id != 0 ? 1 : 0, 0, bench_kill, target);
	(void)run_as((uint32_t)id, id != 0 ? 1 : 0, 0, bench_kill_shared, 0);
	(void)run_as((uint32_t)id, id != 0 ? 1 : 0, 0, bench_bind, 0);
	reap(target);
	kt_printf("KTEST END 1 passed, 0 failed\n");
	return 0;
}

/* ------------------------------------------------------------------ */

static void
conf_line(char *line)
{
	char *v;
	size_t n;

	for (v = line; *v != '\0' && *v != '='; v++)
		continue;
	if (*v != '=')
		return;
	*v++ = '\0';
	n = kt_strlen(v);
	if (kt_strcmp(line, "load") == 0 && n < sizeof(conf.load))
		kt_memcpy(conf.load, v, n + 1);
	else if (kt_strcmp(line, "mode") == 0 && n < sizeof(conf.mode))
		kt_memcpy(conf.mode, v, n + 1);
	else if (kt_strcmp(line, "kmod") == 0 && n < sizeof(conf.kmod))
		kt_memcpy(conf.kmod, v, n + 1);
	else if (kt_strcmp(line, "roots") == 0 && n < sizeof(conf.roots))
		kt_memcpy(conf.roots, v, n + 1);
	else if (kt_strcmp(line, "cells") == 0) {
		conf.cells = 0;
		for (; *v >= '0' && *v <= '9'; v++)
			conf.cells = conf.cells * 10 + (*v - '0');
	}
}

static void
conf_read(const char *path)
{
	char buf[1024], *p, *line;
	long fd, n;

	fd = kt_open(path, O_RDONLY, 0);
	if (fd < 0)
		return;
	n = kt_read((int)fd, buf, sizeof(buf) - 1);
	(void)kt_close((int)fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = line = buf; *p != '\0'; p++) {
		if (*p == '\n') {
			*p = '\0';
			conf_line(line);
			line = p + 1;
		}
	}
	conf_line(line);
}

/* Bring lo0 up with 127.0.0.1 (init has nobody to do it). */
static void
loopback_up(void)
{
	struct ifaliasreq ifra;
	struct ifreq ifr;
	struct sockaddr_in *sin;
	long s;

	s = kt_socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return;
	kt_memset(&ifr, 0, sizeof(ifr));
	kt_memcpy(ifr.ifr_name, "lo0", 4);
	if (kt_ioctl((int)s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		(void)kt_ioctl((int)s, SIOCSIFFLAGS, &ifr);
	}
	kt_memset(&ifra, 0, sizeof(ifra));
	kt_memcpy(ifra.ifra_name, "lo0", 4);
	sin = (struct sockaddr_in *)&ifra.ifra_addr;
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin = (struct sockaddr_in *)&ifra.ifra_mask;
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0xff000000);
	(void)kt_ioctl((int)s, SIOCAIFADDR, &ifra);
	(void)kt_close((int)s);
}

static int
module_in(void)
{
	modctl_load_t ml;
	long rv;

	if (kt_strcmp(conf.load, "modctl") != 0)
		return 0;
	kt_memset(&ml, 0, sizeof(ml));
	ml.ml_filename = conf.kmod;
	rv = kt_modctl(MODCTL_LOAD, &ml);
	if (rv < 0) {
		kt_printf("KTEST FAILED load: modctl load %s: %s\n",
		    conf.kmod, kt_errname(rv));
		return -1;
	}
	return 0;
}

int
kt_main(int argc, char **argv)
{
	int i, rv;

	pid1 = kt_getpid() == 1;
	if (pid1) {
		/* init: the console is ours, the configuration on disk. */
		(void)kt_open("/dev/console", O_RDWR, 0);
		(void)kt_dup2(0, 1);
		(void)kt_dup2(0, 2);
		conf_read("/ktest.conf");
		argc = 0;
	} else {
		argc--;
		argv++;
		while (argc >= 2 && argv[0][0] == '-' && argv[0][1] == 'c') {
			conf_read(argv[1]);
			argc -= 2;
			argv += 2;
		}
		if (argc >= 1 && kt_strcmp(argv[0], "-l") == 0) {
			for (i = 0; i < (int)__arraycount(cases); i++)
				kt_printf("%s\n", cases[i].name);
			return 0;
		}
	}
	if (pid1)
		loopback_up();
	kt_printf("KTEST BEGIN %s load=%s\n", conf.mode, conf.load);
	{
		size_t len = sizeof(i);

		if (kt_sysctlbyname("kern.securelevel", &i, &len, NULL, 0) < 0)
			i = -1;
		kt_printf("KTEST NOTE kern.securelevel %d\n", i);
	}
	if (module_in() < 0)
		rv = 1;
	else if (kt_strcmp(conf.mode, "record") == 0)
		rv = mode_record();
	else if (kt_strcmp(conf.mode, "bench") == 0)
		rv = mode_bench();
	else
		rv = mode_test(argc, argv);
	kt_printf("KTEST DONE %d\n", rv);
	if (pid1) {
		kt_sleep_ms(200);
		(void)kt_reboot(RB_HALT | RB_NOSYNC);
		for (;;)
			kt_sleep_ms(1000);
	}
	return rv;
}

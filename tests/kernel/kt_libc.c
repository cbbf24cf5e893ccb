/*	$NetBSD$	*/

/*
 * kt_libc.c -- the libc system layer of cellktest, for an installed
 * NetBSD (the anita tier runs it from ci/qemu/atf/t_kernel.sh):
 *
 *	cc -static -O2 -I kmod/secmodel_cell/core -o cellktest \
 *	    tests/kernel/cellktest.c tests/kernel/kt_common.c \
 *	    tests/kernel/kt_libc.c
 *
 * Each call maps onto libc and returns -errno on failure, as kt_raw.c
 * does with the bare system calls.
 */

#include <sys/param.h>
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/ktrace.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysctl.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <machine/sysarch.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"

int	modctl(int, void *);

#define	RV(expr)	do {						\
	long rv_ = (long)(expr);					\
	return rv_ == -1 ? -(long)errno : rv_;				\
} while (0)

int
main(int argc, char **argv)
{

	return kt_main(argc, argv);
}

void *kt_memset(void *d, int c, size_t n) { return memset(d, c, n); }
void *kt_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
int kt_memcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }

long	kt_fork(void) { RV(fork()); }
void	kt_exit(int status) { _exit(status); }

long
kt_waitpid(long pid, int *status, int options)
{

	RV(waitpid((pid_t)pid, status, options));
}

long	kt_getpid(void) { return (long)getpid(); }
long	kt_kill(long pid, int sig) { RV(kill((pid_t)pid, sig)); }
long	kt_setuid(long uid) { RV(setuid((uid_t)uid)); }
long	kt_seteuid(long uid) { RV(seteuid((uid_t)uid)); }
long	kt_geteuid(void) { return (long)geteuid(); }
long	kt_sched_yield(void) { RV(sched_yield()); }

long
kt_setpriority(int which, long who, int prio)
{

	RV(setpriority(which, (id_t)who, prio));
}

long
kt_getpriority(int which, long who)
{
	int prio;

	errno = 0;
	prio = getpriority(which, (id_t)who);
	if (prio == -1 && errno != 0)
		return -(long)errno;
	return prio + NZERO;	/* biased as the system call returns it */
}

long
kt_ptrace(int req, long pid, void *addr, int data)
{

	RV(ptrace(req, (pid_t)pid, addr, data));
}

long
kt_fktrace(int fd, int ops, int facs, long pid)
{

	RV(fktrace(fd, ops, facs, (pid_t)pid));
}

long	kt_reboot(int howto) { RV(reboot(howto, NULL)); }
long	kt_open(const char *p, int flags, int mode) { RV(open(p, flags, mode)); }
long	kt_close(int fd) { RV(close(fd)); }
long	kt_read(int fd, void *buf, size_t n) { RV(read(fd, buf, n)); }
long	kt_write(int fd, const void *buf, size_t n) { RV(write(fd, buf, n)); }
long	kt_pipe(int *fds) { RV(pipe(fds)); }
long	kt_dup2(int from, int to) { RV(dup2(from, to)); }
long	kt_chdir(const char *path) { RV(chdir(path)); }
long	kt_chroot(const char *path) { RV(chroot(path)); }
long	kt_mkdir(const char *path, int mode) { RV(mkdir(path, (mode_t)mode)); }
long	kt_unlink(const char *path) { RV(unlink(path)); }

long
kt_mknod(const char *path, int mode, unsigned long dev)
{

	RV(mknod(path, (mode_t)mode, (dev_t)dev));
}

long
kt_mount(const char *type, const char *path, int flags, void *data,
    size_t len)
{

	RV(mount(type, path, flags, data, len));
}

long	kt_unmount(const char *path, int flags) { RV(unmount(path, flags)); }

long
kt_ioctl(int fd, unsigned long req, void *arg)
{

	RV(ioctl(fd, req, arg));
}

long
kt_socket(int domain, int type, int proto)
{

	RV(socket(domain, type, proto));
}

long
kt_bind(int s, const struct sockaddr *sa, unsigned len)
{

	RV(bind(s, sa, (socklen_t)len));
}

long
kt_connect(int s, const struct sockaddr *sa, unsigned len)
{

	RV(connect(s, sa, (socklen_t)len));
}

long	kt_listen(int s, int backlog) { RV(listen(s, backlog)); }

long
kt_sysctl(const int *name, unsigned namelen, void *old, size_t *oldlen,
    const void *new, size_t newlen)
{

	RV(sysctl(name, namelen, old, oldlen, new, newlen));
}

long
kt_sysctlbyname(const char *name, void *old, size_t *oldlen,
    const void *new, size_t newlen)
{

	RV(sysctlbyname(name, old, oldlen, new, newlen));
}

long	kt_modctl(int cmd, void *arg) { RV(modctl(cmd, arg)); }

long
kt_settime(long sec)
{
	struct timespec ts;

	ts.tv_sec = sec;
	ts.tv_nsec = 0;
	RV(clock_settime(CLOCK_REALTIME, &ts));
}

long
kt_realtime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return -(long)errno;
	return (long)ts.tv_sec;
}

long
kt_iopl(int level)
{
	struct x86_64_iopl_args args;

	args.iopl = level;
	RV(sysarch(X86_64_IOPL, &args));
}

uint64_t
kt_nanotime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
kt_sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	(void)nanosleep(&ts, NULL);
}

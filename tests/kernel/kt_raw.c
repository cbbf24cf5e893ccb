/*	$NetBSD$	*/

/*
 * kt_raw.c -- the freestanding system layer of cellktest (amd64).
 *
 * Used when cellktest is /sbin/init of a bare root image: no libc, no
 * dynamic linker, nothing on the disk but this program.  It provides
 * _start, the NetBSD ELF note without which the kernel refuses to exec
 * it, the system calls (number in %rax, arguments in %rdi %rsi %rdx %r10
 * %r8 %r9, carry set on error with the errno in %rax, a second result in
 * %rdx), sysctlbyname() over CTL_QUERY, and the few string and output
 * routines the tests use.  Syscall numbers come from the kernel tree's
 * sys/syscall.h, so the layer follows the kernel it is built against.
 *
 * Built with: gcc -ffreestanding -nostdinc -nostdlib -static -fno-pie
 * -no-pie -fno-stack-protector -I<sys> -I<machine links> (ci/ktest).
 */

#include <sys/param.h>
#include <sys/types.h>
#include <sys/errno.h>
#include <sys/syscall.h>
#include <sys/sysctl.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <machine/sysarch.h>

#include "kt.h"

#ifndef __x86_64__
#error "kt_raw.c is the amd64 system layer"
#endif

/* The version note: "NetBSD", type 1, __NetBSD_Version__ of the tree. */
__asm__(
	"	.section .note.netbsd.ident, \"a\"\n"
	"	.p2align 2\n"
	"	.long	7\n"
	"	.long	4\n"
	"	.long	1\n"
	"	.ascii	\"NetBSD\\0\\0\"\n"
	"	.long	" ___STRING(__NetBSD_Version__) "\n"
	"	.p2align 2\n"
	"	.previous\n");

/* The kernel starts init with %rsp at argc, argv[], NULL, envp[]. */
__asm__(
	"	.text\n"
	"	.globl	_start\n"
	"_start:\n"
	"	xorl	%ebp, %ebp\n"
	"	movq	(%rsp), %rdi\n"
	"	leaq	8(%rsp), %rsi\n"
	"	andq	$-16, %rsp\n"
	"	call	kt_start\n"
	"	hlt\n");

void	kt_start(int, char **) KT_NORETURN;

static long
kt_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6,
    long *second)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long rax = n, rdx = a3;
	unsigned char failed;

	__asm__ volatile("syscall; setc %[failed]"
	    : "+a"(rax), "+d"(rdx), "+D"(a1), "+S"(a2), "+r"(r10),
	      "+r"(r8), "+r"(r9), [failed] "=r"(failed)
	    :
	    : "rcx", "r11", "memory", "cc");
	if (failed)
		return -rax;
	if (second != NULL)
		*second = rdx;
	return rax;
}

#define	SC0(n)			kt_syscall((n), 0, 0, 0, 0, 0, 0, NULL)
#define	SC1(n, a)		kt_syscall((n), (long)(a), 0, 0, 0, 0, 0, NULL)
#define	SC2(n, a, b)		kt_syscall((n), (long)(a), (long)(b), 0, 0, \
				    0, 0, NULL)
#define	SC3(n, a, b, c)		kt_syscall((n), (long)(a), (long)(b), \
				    (long)(c), 0, 0, 0, NULL)
#define	SC4(n, a, b, c, d)	kt_syscall((n), (long)(a), (long)(b), \
				    (long)(c), (long)(d), 0, 0, NULL)
#define	SC6(n, a, b, c, d, e, f) kt_syscall((n), (long)(a), (long)(b), \
				    (long)(c), (long)(d), (long)(e), \
				    (long)(f), NULL)

/* gcc may emit calls to these for struct copies and initialisers. */
void	*memset(void *, int, size_t);
void	*memcpy(void *, const void *, size_t);
void	*memmove(void *, const void *, size_t);
int	memcmp(const void *, const void *, size_t);

void *
memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n-- > 0)
		*p++ = (unsigned char)c;
	return d;
}

void *
memcpy(void *d, const void *s, size_t n)
{

	return memmove(d, s, n);
}

void *
memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp)
		while (n-- > 0)
			*dp++ = *sp++;
	else
		while (n-- > 0)
			dp[n] = sp[n];
	return d;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *pa = a, *pb = b;

	for (; n > 0; n--, pa++, pb++)
		if (*pa != *pb)
			return *pa - *pb;
	return 0;
}

void *
kt_memset(void *d, int c, size_t n)
{

	return memset(d, c, n);
}

void *
kt_memcpy(void *d, const void *s, size_t n)
{

	return memcpy(d, s, n);
}

int
kt_memcmp(const void *a, const void *b, size_t n)
{

	return memcmp(a, b, n);
}

void
kt_start(int argc, char **argv)
{

	kt_exit(kt_main(argc, argv));
}

long
kt_fork(void)
{
	long rv, child;

	child = 0;
	rv = kt_syscall(SYS_fork, 0, 0, 0, 0, 0, 0, &child);
	if (rv < 0)
		return rv;
	return child != 0 ? 0 : rv;
}

void
kt_exit(int status)
{

	for (;;)
		(void)SC1(SYS_exit, status);
}

long
kt_waitpid(long pid, int *status, int options)
{

	return SC4(SYS___wait450, pid, status, options, NULL);
}

long	kt_getpid(void) { return SC0(SYS_getpid); }
long	kt_kill(long pid, int sig) { return SC2(SYS_kill, pid, sig); }
long	kt_setuid(long uid) { return SC1(SYS_setuid, uid); }
long	kt_seteuid(long uid) { return SC1(SYS_seteuid, uid); }
long	kt_geteuid(void) { return SC0(SYS_geteuid); }
long	kt_sched_yield(void) { return SC0(SYS_sched_yield); }

long
kt_setpriority(int which, long who, int prio)
{

	return SC3(SYS_setpriority, which, who, prio);
}

long
kt_getpriority(int which, long who)
{

	/* The kernel returns the priority biased by NZERO. */
	return SC2(SYS_getpriority, which, who);
}

long
kt_ptrace(int req, long pid, void *addr, int data)
{

	return SC4(SYS_ptrace, req, pid, addr, data);
}

long
kt_fktrace(int fd, int ops, int facs, long pid)
{

	return SC4(SYS_fktrace, fd, ops, facs, pid);
}

long	kt_reboot(int howto) { return SC2(SYS_reboot, howto, NULL); }

long
kt_open(const char *path, int flags, int mode)
{

	return SC3(SYS_open, path, flags, mode);
}

long	kt_close(int fd) { return SC1(SYS_close, fd); }

long
kt_read(int fd, void *buf, size_t n)
{

	return SC3(SYS_read, fd, buf, n);
}

long
kt_write(int fd, const void *buf, size_t n)
{

	return SC3(SYS_write, fd, buf, n);
}

long
kt_pipe(int *fds)
{

	return SC2(SYS_pipe2, fds, 0);
}

long	kt_dup2(int from, int to) { return SC2(SYS_dup2, from, to); }
long	kt_chdir(const char *path) { return SC1(SYS_chdir, path); }
long	kt_chroot(const char *path) { return SC1(SYS_chroot, path); }
long	kt_mkdir(const char *path, int mode) { return SC2(SYS_mkdir, path, mode); }
long	kt_unlink(const char *path) { return SC1(SYS_unlink, path); }

long
kt_mknod(const char *path, int mode, unsigned long dev)
{

	return SC3(SYS___mknod50, path, mode, dev);
}

long
kt_mount(const char *type, const char *path, int flags, void *data,
    size_t len)
{

	return SC6(SYS___mount50, type, path, flags, data, len, 0);
}

long
kt_unmount(const char *path, int flags)
{

	return SC2(SYS_unmount, path, flags);
}

long
kt_ioctl(int fd, unsigned long req, void *arg)
{

	return SC3(SYS_ioctl, fd, req, arg);
}

long
kt_socket(int domain, int type, int proto)
{

	return SC3(SYS___socket30, domain, type, proto);
}

long
kt_bind(int s, const struct sockaddr *sa, unsigned len)
{

	return SC3(SYS_bind, s, sa, len);
}

long
kt_connect(int s, const struct sockaddr *sa, unsigned len)
{

	return SC3(SYS_connect, s, sa, len);
}

long	kt_listen(int s, int backlog) { return SC2(SYS_listen, s, backlog); }

long
kt_sysctl(const int *name, unsigned namelen, void *old, size_t *oldlen,
    const void *new, size_t newlen)
{

	return SC6(SYS___sysctl, name, namelen, old, oldlen, new, newlen);
}

/*
 * Resolve a dotted name one level at a time with CTL_QUERY, as libc's
 * sysctlnametomib() does, then make the call.
 */
long
kt_sysctlbyname(const char *name, void *old, size_t *oldlen,
    const void *new, size_t newlen)
{
	static struct sysctlnode nodes[1024];
	struct sysctlnode query;
	int mib[CTL_MAXNAME];
	char comp[SYSCTL_NAMELEN];
	const char *p;
	unsigned depth;
	size_t len, n, i;
	long rv;

	depth = 0;
	for (p = name; *p != '\0'; ) {
		for (n = 0; p[n] != '\0' && p[n] != '.'; n++)
			if (n + 1 >= sizeof(comp))
				return -ENAMETOOLONG;
		kt_memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (*p == '.')
			p++;
		if (depth + 1 >= CTL_MAXNAME)
			return -ENAMETOOLONG;

		kt_memset(&query, 0, sizeof(query));
		query.sysctl_flags = SYSCTL_VERSION;
		mib[depth] = CTL_QUERY;
		len = sizeof(nodes);
		rv = kt_sysctl(mib, depth + 1, nodes, &len, &query,
		    sizeof(query));
		if (rv < 0)
			return rv;
		for (i = 0; i < len / sizeof(nodes[0]); i++)
			if (kt_strcmp(nodes[i].sysctl_name, comp) == 0)
				break;
		if (i == len / sizeof(nodes[0]))
			return -ENOENT;
		mib[depth++] = nodes[i].sysctl_num;
	}
	return kt_sysctl(mib, depth, old, oldlen, new, newlen);
}

long	kt_modctl(int cmd, void *arg) { return SC2(SYS_modctl, cmd, arg); }

long
kt_settime(long sec)
{
	struct timespec ts;

	ts.tv_sec = sec;
	ts.tv_nsec = 0;
	return SC2(SYS___clock_settime50, CLOCK_REALTIME, &ts);
}

long
kt_iopl(int level)
{
	struct x86_64_iopl_args args;

	args.iopl = level;
	return SC2(SYS_sysarch, X86_64_IOPL, &args);
}

long
kt_realtime(void)
{
	struct timespec ts;
	long rv;

	rv = SC2(SYS___clock_gettime50, CLOCK_REALTIME, &ts);
	return rv < 0 ? rv : (long)ts.tv_sec;
}

uint64_t
kt_nanotime(void)
{
	struct timespec ts;

	if (SC2(SYS___clock_gettime50, CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
kt_sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	(void)SC2(SYS___nanosleep50, &ts, NULL);
}

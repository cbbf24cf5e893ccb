/*	$NetBSD$	*/

/*
 * kt.h -- the small system layer under the in-kernel tests of
 * secmodel_cell (cellktest.c).
 *
 * The same test body runs in two places: as /sbin/init of a bare root
 * image booted under QEMU (the boot-test tier, ci/ktest), where there is
 * no libc and kt_raw.c makes the system calls itself; and as an ordinary
 * program on an installed NetBSD (the anita tier, ci/qemu), where
 * kt_libc.c maps the same calls onto libc.  Every call returns its
 * result, or -errno on failure, so the tests never look at a global
 * errno.  Only NetBSD's own sys/ headers are included, which is what
 * lets the freestanding build compile against a kernel source tree.
 */

#ifndef _KT_H_
#define _KT_H_

#include <sys/types.h>
#include <sys/stdarg.h>

struct sockaddr;
struct sysctlnode;

#define	KT_NORETURN	__attribute__((__noreturn__))
#define	KT_PRINTF(f, a)	__attribute__((__format__(__printf__, f, a)))

/* Output: the console (fd 1).  %d %u %ld %lu %lld %llu %x %lx %s %c %%. */
void	kt_printf(const char *, ...) KT_PRINTF(1, 2);
void	kt_vprintf(const char *, va_list);
int	kt_snprintf(char *, size_t, const char *, ...) KT_PRINTF(3, 4);

/* Strings and memory. */
size_t	kt_strlen(const char *);
int	kt_strcmp(const char *, const char *);
int	kt_strncmp(const char *, const char *, size_t);
void	*kt_memset(void *, int, size_t);
void	*kt_memcpy(void *, const void *, size_t);
int	kt_memcmp(const void *, const void *, size_t);
const char *kt_errname(long);

/* Processes. */
long	kt_fork(void);
void	kt_exit(int) KT_NORETURN;
long	kt_waitpid(long, int *, int);
long	kt_getpid(void);
long	kt_kill(long, int);
long	kt_setuid(long);
long	kt_seteuid(long);
long	kt_geteuid(void);
long	kt_setpriority(int, long, int);
long	kt_getpriority(int, long);
long	kt_ptrace(int, long, void *, int);
long	kt_fktrace(int, int, int, long);
long	kt_reboot(int);
long	kt_sched_yield(void);

/* Files and file systems. */
long	kt_open(const char *, int, int);
long	kt_close(int);
long	kt_read(int, void *, size_t);
long	kt_write(int, const void *, size_t);
long	kt_pipe(int *);
long	kt_dup2(int, int);
long	kt_chdir(const char *);
long	kt_chroot(const char *);
long	kt_mkdir(const char *, int);
long	kt_unlink(const char *);
long	kt_mknod(const char *, int, unsigned long);
long	kt_mount(const char *, const char *, int, void *, size_t);
long	kt_unmount(const char *, int);
long	kt_ioctl(int, unsigned long, void *);

/* Sockets. */
long	kt_socket(int, int, int);
long	kt_bind(int, const struct sockaddr *, unsigned);
long	kt_connect(int, const struct sockaddr *, unsigned);
long	kt_listen(int, int);

/* sysctl, modules, time, machdep. */
long	kt_sysctl(const int *, unsigned, void *, size_t *, const void *,
	    size_t);
long	kt_sysctlbyname(const char *, void *, size_t *, const void *, size_t);
long	kt_modctl(int, void *);
long	kt_settime(long);
long	kt_realtime(void);		/* CLOCK_REALTIME, s */
long	kt_iopl(int);
uint64_t kt_nanotime(void);		/* CLOCK_MONOTONIC, ns */
void	kt_sleep_ms(long);

/* The test body: kt_main() is called with the tier's argument vector. */
int	kt_main(int, char **);

#endif /* !_KT_H_ */

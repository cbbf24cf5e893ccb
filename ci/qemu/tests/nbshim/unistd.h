/* unistd.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/types.h>
int close(int); pid_t fork(void); void _exit(int) __attribute__((__noreturn__));
unsigned sleep(unsigned); int pause(void); int chroot(const char *); int chdir(const char *);
int setuid(uid_t); int setgid(gid_t); int execv(const char *, char * const *);
int access(const char *, int); int unlink(const char *); int reboot(int, char *);
#define F_OK 0

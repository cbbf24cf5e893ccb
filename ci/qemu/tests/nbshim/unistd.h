/* unistd.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/types.h>
int close(int); pid_t fork(void); void _exit(int) __attribute__((__noreturn__));
unsigned sleep(unsigned); int pause(void); int chroot(const char *); int chdir(const char *);
int setuid(uid_t); int setgid(gid_t); int execv(const char *, char * const *);
int access(const char *, int); int unlink(const char *); int reboot(int, char *);
#define F_OK 0
pid_t getpid(void); int seteuid(uid_t); uid_t geteuid(void); ssize_t read(int, void *, size_t);
ssize_t write(int, const void *, size_t); int pipe(int *); int dup2(int, int);
int sysarch(int, void *);

/* sched.h: what kt_libc.c uses, for its NetBSD syntax check. */
int sched_yield(void);

/*	$NetBSD$	*/

/*
 * cell_kauth.c -- the kauth(9) listeners of secmodel_cell.
 *
 * One listener per scope (process, system, network, device, machdep,
 * credentials), all with the same shape: the result starts as DEFER, a
 * switch on the action (then the request) picks a row of
 * core/cell_policy.def, the core decides, and the listener returns DENY
 * only when the core says DENY.  The module never grants anything, except
 * in the credential scope, where kauth(9) requires every listener to
 * answer ALLOW.  Called by kauth_authorize_action() for every request in
 * these scopes; set up and torn down by secmodel_cell.c.
 *
 * Listeners take no lock of the module and never allocate or sleep,
 * except the credential listener's INIT (which runs in the sleepable
 * context of kauth_cred_alloc()) and a COPY into a credential whose key
 * container is missing; reading a credential's key takes the adaptive
 * mutex of its specificdata, so no listener that reads one may be
 * called under a spin lock (see cell_device_cb()).  The
 * cell of a credential is its handle (core slot and generation, 0 for
 * the host), stored as an integer in the credential's kauth key slot;
 * credentials that predate the module read back 0.
 */

#include <sys/cdefs.h>
__KERNEL_RCSID(0, "$NetBSD$");

#include <sys/param.h>
#include <sys/types.h>
#include <sys/atomic.h>
#include <sys/domain.h>
#include <sys/kauth.h>
#include <sys/lwp.h>
#include <sys/proc.h>
#include <sys/protosw.h>
#include <sys/socket.h>
#include <sys/socketvar.h>
#include <sys/syslog.h>
#include <sys/systm.h>
#include <sys/time.h>
#include <sys/timevar.h>

#include <netinet/in.h>
#include <netinet/in_systm.h>
#include <netinet/ip.h>
#include <netinet/ip_var.h>
#include <netinet6/ip6_var.h>

#include "cell_core.h"
#include "cell_glue.h"

static kauth_listener_t	cell_l_process;
static kauth_listener_t	cell_l_system;
static kauth_listener_t	cell_l_network;
static kauth_listener_t	cell_l_device;
static kauth_listener_t	cell_l_machdep;
static kauth_listener_t	cell_l_cred;

static int	cell_process_cb(kauth_cred_t, kauth_action_t, void *, void *,
		    void *, void *, void *);
static int	cell_system_cb(kauth_cred_t, kauth_action_t, void *, void *,
		    void *, void *, void *);
static int	cell_network_cb(kauth_cred_t, kauth_action_t, void *, void *,
		    void *, void *, void *);
static int	cell_device_cb(kauth_cred_t, kauth_action_t, void *, void *,
		    void *, void *, void *);
static int	cell_machdep_cb(kauth_cred_t, kauth_action_t, void *, void *,
		    void *, void *, void *);
static int	cell_cred_cb(kauth_cred_t, kauth_action_t, void *, void *,
		    void *, void *, void *);

/*
 * The cell handle a credential carries; 0 for the host and for the
 * kernel's pseudo-credentials.
 */
uint32_t
cell_cred_handle(kauth_cred_t cred)
{

	if (cred == NULL || cred == NOCRED || cred == FSCRED)
		return 0;
	return (uint32_t)(uintptr_t)kauth_cred_getdata(cred,
	    secmodel_cell_key);
}

/* A host credential: not in any cell (any uid). */
bool
cell_cred_is_host(kauth_cred_t cred)
{

	return cell_cred_handle(cred) == 0;
}

/* Host root: effective uid 0 and not in any cell. */
bool
cell_cred_is_host_root(kauth_cred_t cred)
{

	return kauth_cred_geteuid(cred) == 0 && cell_cred_handle(cred) == 0;
}

/*
 * The device listener answers KAUTH_DEVICE_TTY_OPEN without reading the
 * credential (see cell_device_cb()), which is only right while that row
 * is DEFER in every profile.  Refuse to load if the table says otherwise.
 */
int
cell_kauth_selfcheck(void)
{
	unsigned profile;

	for (profile = CELL_PROFILE_LOW; profile <= CELL_PROFILE_HIGH;
	    profile++) {
		if (cell_op_default(CELL_OP_DEV_TTY_OPEN, profile) !=
		    CELL_DEFER) {
			printf("secmodel_cell: policy row %s must be DEFER in "
			    "every profile\n",
			    cell_op_name(CELL_OP_DEV_TTY_OPEN));
			return EINVAL;
		}
	}
	return 0;
}

/* The subject of a request: the credential's cell and effective uid. */
static void
cell_subject(kauth_cred_t cred, struct cell_subject *subj)
{

	subj->cs_handle = cell_cred_handle(cred);
	subj->cs_euid = kauth_cred_geteuid(cred);
}

/* Host root is never restricted: no object lookup, no core call. */
static bool
cell_subject_unrestricted(const struct cell_subject *subj)
{

	return subj->cs_handle == 0 && subj->cs_euid == 0;
}

/*
 * Ask the core about (subject, op, object); count and log a denial.
 * Returns a kauth result: DENY or DEFER, never ALLOW.
 */
static int
cell_verdict(const struct cell_subject *subj, unsigned scope, unsigned op,
    const struct cell_object *obj, kauth_action_t action, uint64_t request)
{
	struct proc *p;
	time_t now;
	int verdict;

	now = time_second;
	verdict = cell_check(secmodel_cell_core, subj, op, obj,
	    (uint64_t)action, request, (uint64_t)now);
	if (verdict != CELL_DENY)
		return KAUTH_RESULT_DEFER;

	if (cell_log_ratecheck(secmodel_cell_core, scope, (uint64_t)now)) {
		p = curproc;
		log(LOG_NOTICE, "secmodel_cell: denied %s to pid %d (%s) "
		    "euid %u in cell %u (action %ju request %ju)\n",
		    cell_op_name(op), p != NULL ? p->p_pid : -1,
		    p != NULL ? p->p_comm : "?", (unsigned)subj->cs_euid,
		    cell_handle_id(secmodel_cell_core, subj->cs_handle),
		    (uintmax_t)action, (uintmax_t)request);
	}
	return KAUTH_RESULT_DENY;
}

/*
 * Process scope: isolation between cells.  arg0 is the target process
 * for every action; its credential names the object's cell.  arg1 is
 * recorded only where it is a request or a small number, never where
 * it is a kernel pointer (PROCFS, SCHEDULER_SETPARAM).
 */
static int
cell_process_cb(kauth_cred_t cred, kauth_action_t action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	struct cell_subject subj;
	struct cell_object obj;
	struct proc *p;
	uint64_t request;
	unsigned op;
	int result;

	result = KAUTH_RESULT_DEFER;
	request = (uint64_t)(uintptr_t)arg1;
	switch (action) {
	case KAUTH_PROCESS_CANSEE:
		op = CELL_OP_PROC_CANSEE;
		break;
	case KAUTH_PROCESS_CORENAME:
		op = CELL_OP_PROC_CORENAME;
		break;
	case KAUTH_PROCESS_FORK:
		op = CELL_OP_PROC_FORK;
		break;
	case KAUTH_PROCESS_KEVENT_FILTER:
		op = CELL_OP_PROC_KEVENT;
		break;
	case KAUTH_PROCESS_KTRACE:
		op = CELL_OP_PROC_KTRACE;
		break;
	case KAUTH_PROCESS_NICE:
		op = CELL_OP_PROC_NICE;
		break;
	case KAUTH_PROCESS_PROCFS:
		op = CELL_OP_PROC_PROCFS;
		request = 0;
		break;
	case KAUTH_PROCESS_PTRACE:
		op = CELL_OP_PROC_PTRACE;
		break;
	case KAUTH_PROCESS_RLIMIT:
		op = CELL_OP_PROC_RLIMIT;
		break;
	case KAUTH_PROCESS_SCHEDULER_GETAFFINITY:
	case KAUTH_PROCESS_SCHEDULER_SETAFFINITY:
	case KAUTH_PROCESS_SCHEDULER_GETPARAM:
	case KAUTH_PROCESS_SCHEDULER_SETPARAM:
		op = CELL_OP_PROC_SCHEDULER;
		request = 0;
		break;
	case KAUTH_PROCESS_SETID:
		op = CELL_OP_PROC_SETID;
		break;
	case KAUTH_PROCESS_SIGNAL:
		op = CELL_OP_PROC_SIGNAL;
		break;
	case KAUTH_PROCESS_STOPFLAG:
		op = CELL_OP_PROC_STOPFLAG;
		break;
	default:
		op = CELL_OP_PROC_UNKNOWN;
		request = 0;
		break;
	}

	cell_subject(cred, &subj);
	if (!cell_subject_unrestricted(&subj)) {
		memset(&obj, 0, sizeof(obj));
		p = arg0;
		/*
		 * Processes forked from one another share a credential:
		 * then the target's cell is the subject's, and reading it
		 * again (a mutex in kauth_cred_getdata()) is not needed.
		 */
		if (p != NULL && p->p_cred == cred)
			obj.co_handle = subj.cs_handle;
		else if (p != NULL)
			obj.co_handle = cell_cred_handle(p->p_cred);
		result = cell_verdict(&subj, CELL_SCOPE_PROCESS, op, &obj,
		    action, request);
	}

	return result;
}

/*
 * System scope: host administration.  arg0 is the request.
 */
static int
cell_system_cb(kauth_cred_t cred, kauth_action_t action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	enum kauth_system_req req;
	struct cell_subject subj;
	unsigned op;
	int result;

	result = KAUTH_RESULT_DEFER;
	req = (enum kauth_system_req)(uintptr_t)arg0;
	switch (action) {
	case KAUTH_SYSTEM_MOUNT:
		switch (req) {
		case KAUTH_REQ_SYSTEM_MOUNT_GET:
			op = CELL_OP_SYS_MOUNT_GET;
			break;
		case KAUTH_REQ_SYSTEM_MOUNT_NEW:
		case KAUTH_REQ_SYSTEM_MOUNT_UNMOUNT:
		case KAUTH_REQ_SYSTEM_MOUNT_UPDATE:
		case KAUTH_REQ_SYSTEM_MOUNT_UMAP:
		case KAUTH_REQ_SYSTEM_MOUNT_DEVICE:
			op = CELL_OP_SYS_MOUNT;
			break;
		default:
			op = CELL_OP_SYS_UNKNOWN;
			break;
		}
		break;

	case KAUTH_SYSTEM_SYSCTL:
		switch (req) {
		case KAUTH_REQ_SYSTEM_SYSCTL_ADD:
		case KAUTH_REQ_SYSTEM_SYSCTL_DELETE:
		case KAUTH_REQ_SYSTEM_SYSCTL_MODIFY:
			op = CELL_OP_SYS_SYSCTL_WRITE;
			break;
		case KAUTH_REQ_SYSTEM_SYSCTL_PRVT:
			op = CELL_OP_SYS_SYSCTL_PRIVATE;
			break;
		case KAUTH_REQ_SYSTEM_SYSCTL_DESC:
			op = CELL_OP_SYS_SYSCTL_DESC;
			break;
		default:
			op = CELL_OP_SYS_UNKNOWN;
			break;
		}
		break;

	case KAUTH_SYSTEM_SYSVIPC:
		op = CELL_OP_SYS_SYSVIPC;
		break;

	case KAUTH_SYSTEM_FS_QUOTA:
		switch (req) {
		case KAUTH_REQ_SYSTEM_FS_QUOTA_GET:
			op = CELL_OP_SYS_QUOTA_GET;
			break;
		case KAUTH_REQ_SYSTEM_FS_QUOTA_MANAGE:
		case KAUTH_REQ_SYSTEM_FS_QUOTA_NOLIMIT:
		case KAUTH_REQ_SYSTEM_FS_QUOTA_ONOFF:
			op = CELL_OP_SYS_ADMIN;
			break;
		default:
			op = CELL_OP_SYS_UNKNOWN;
			break;
		}
		break;

	case KAUTH_SYSTEM_ACCOUNTING:
	case KAUTH_SYSTEM_CHROOT:
	case KAUTH_SYSTEM_CHSYSFLAGS:
	case KAUTH_SYSTEM_CPU:
	case KAUTH_SYSTEM_DEBUG:
	case KAUTH_SYSTEM_FILEHANDLE:
	case KAUTH_SYSTEM_MKNOD:
	case KAUTH_SYSTEM_PSET:
	case KAUTH_SYSTEM_REBOOT:
	case KAUTH_SYSTEM_SETIDCORE:
	case KAUTH_SYSTEM_SWAPCTL:
	case KAUTH_SYSTEM_TIME:
	case KAUTH_SYSTEM_MODULE:
	case KAUTH_SYSTEM_FS_RESERVEDSPACE:
	case KAUTH_SYSTEM_SEMAPHORE:
	case KAUTH_SYSTEM_MQUEUE:
	case KAUTH_SYSTEM_VERIEXEC:
	case KAUTH_SYSTEM_DEVMAPPER:
	case KAUTH_SYSTEM_MAP_VA_ZERO:
	case KAUTH_SYSTEM_LFS:
	case KAUTH_SYSTEM_FS_EXTATTR:
	case KAUTH_SYSTEM_FS_SNAPSHOT:
	case KAUTH_SYSTEM_INTR:
	case KAUTH_SYSTEM_KERNADDR:
		op = CELL_OP_SYS_ADMIN;
		break;

	default:
		op = CELL_OP_SYS_UNKNOWN;
		break;
	}

	cell_subject(cred, &subj);
	if (!cell_subject_unrestricted(&subj))
		result = cell_verdict(&subj, CELL_SCOPE_SYSTEM, op, NULL,
		    action, (uint64_t)req);

	return result;
}

/*
 * Fill a BIND object from the socket and sockaddr the protocol passes
 * (arg1 and arg2 of the network scope): family, port in host order,
 * address in network order.  The layout of the sockaddr is taken from
 * the socket's domain, never from its sa_family: the ephemeral-port
 * search (check_suitable_port() in netinet/portalgo.c) passes a
 * sockaddr_in or sockaddr_in6 on its stack with only the address and
 * port filled in.  A v4-mapped IPv6 address is what an IPv4 bind on
 * that socket reaches, so it is reported as IPv4.  Other domains
 * (AppleTalk, ...) have no IP ports and leave the family 0.
 */
static void
cell_bind_object(const struct socket *so, const struct sockaddr *sa,
    struct cell_object *obj)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	int family;

	memset(obj, 0, sizeof(*obj));
	if (sa == NULL)
		return;
	if (so != NULL && so->so_proto != NULL &&
	    so->so_proto->pr_domain != NULL)
		family = so->so_proto->pr_domain->dom_family;
	else
		family = sa->sa_family;

	switch (family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		obj->co_family = CELL_AF_INET;
		obj->co_port = ntohs(sin->sin_port);
		memcpy(obj->co_addr, &sin->sin_addr, sizeof(sin->sin_addr));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		obj->co_port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			obj->co_family = CELL_AF_INET;
			memcpy(obj->co_addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			obj->co_family = CELL_AF_INET6;
			memcpy(obj->co_addr, &sin6->sin6_addr,
			    sizeof(sin6->sin6_addr));
		}
		break;
	default:
		break;
	}
}

/*
 * The ephemeral-port search binds the wildcard address with port 0
 * (inpcb_set_port(), in6pcb_set_port()) and then asks again for each
 * candidate port, still with the socket's wildcard address
 * (check_suitable_port()).  The first question is the one the policy
 * answers (port 0 is the implicit bind of connect(2), allowed even to
 * a cell with a list of bind addresses); a candidate is the same bind
 * with its port chosen, so an unreserved candidate inside the kernel's
 * ephemeral range (net.inet.ip.anonportmin..anonportmax, or lowportmin..
 * lowportmax for IP_PORTRANGE_LOW, and their IPv6 twins) is put to the
 * core as port 0.  A reserved one keeps its port, so a port another
 * cell reserved is refused and the search moves on.  The kernel does
 * not tell a candidate from an explicit bind of the wildcard address to
 * a port of that range, which is therefore allowed too (see CAVEATS in
 * secmodel_cell(4)).
 */
static bool
cell_port_in(unsigned port, int lo, int hi)
{

	if (lo > hi)
		return (int)port >= hi && (int)port <= lo;
	return (int)port >= lo && (int)port <= hi;
}

static void
cell_bind_anon(enum kauth_network_req req, struct cell_object *obj)
{
	unsigned i, alen;
	bool anon;

	if (obj->co_port == 0)
		return;
	switch (obj->co_family) {
	case CELL_AF_INET:
		alen = 4;
		break;
	case CELL_AF_INET6:
		alen = 16;
		break;
	default:
		return;
	}
	for (i = 0; i < alen; i++)
		if (obj->co_addr[i] != 0)
			return;
	if (cell_port_owner(secmodel_cell_core, obj->co_port) != 0)
		return;

	if (req == KAUTH_REQ_NETWORK_BIND_PRIVPORT)
		anon = cell_port_in(obj->co_port, lowportmin, lowportmax) ||
		    cell_port_in(obj->co_port, ip6_lowportmin,
		    ip6_lowportmax);
	else
		anon = cell_port_in(obj->co_port, anonportmin, anonportmax) ||
		    cell_port_in(obj->co_port, ip6_anonportmin,
		    ip6_anonportmax);
	if (anon)
		obj->co_port = 0;
}

/*
 * Network scope.  arg0 is the request.  BIND: arg1 the socket, arg2 the
 * local sockaddr (explicit binds, and every candidate port of the
 * ephemeral-port search, which a DENY makes it skip).  SOCKET OPEN:
 * arg1 the domain, arg2 the type, arg3 the protocol (socreate(), type
 * without the SOCK_* flags); IPv4 raw sockets are seen only here
 * (rip_attach makes no kauth call), IPv6 raw sockets also as SOCKET
 * RAWSOCK.  Routing sockets are SOCK_RAW too and are told apart by
 * domain first.  SOCKET CANSEE: arg1 the socket whose owner is the
 * object (a missing socket or so_cred reads as the host, which is
 * another cell for a celled subject: denied).
 */
static int
cell_network_cb(kauth_cred_t cred, kauth_action_t action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	enum kauth_network_req req;
	struct cell_subject subj;
	struct cell_object obj;
	struct socket *so;
	unsigned op;
	int result;

	result = KAUTH_RESULT_DEFER;
	req = (enum kauth_network_req)(uintptr_t)arg0;
	memset(&obj, 0, sizeof(obj));
	so = NULL;
	switch (action) {
	case KAUTH_NETWORK_BIND:
		switch (req) {
		case KAUTH_REQ_NETWORK_BIND_PORT:
		case KAUTH_REQ_NETWORK_BIND_PRIVPORT:
			op = CELL_OP_NET_BIND;
			cell_bind_object(arg1, arg2, &obj);
			cell_bind_anon(req, &obj);
			break;
		case KAUTH_REQ_NETWORK_BIND_ANYADDR:
			/* IP_BINDANY / IPV6_BINDANY: a privileged option. */
			op = CELL_OP_NET_SOCKET_PRIV;
			break;
		default:
			op = CELL_OP_NET_UNKNOWN;
			break;
		}
		break;

	case KAUTH_NETWORK_SOCKET:
		switch (req) {
		case KAUTH_REQ_NETWORK_SOCKET_OPEN:
			switch ((u_long)(uintptr_t)arg1) {
			case PF_ROUTE:
			case PF_OROUTE:
				op = CELL_OP_NET_ROUTESOCK;
				break;
			case PF_KEY:
				/* IPsec key management. */
				op = CELL_OP_NET_ADMIN;
				break;
			default:
				if ((u_long)(uintptr_t)arg2 == SOCK_RAW)
					op = CELL_OP_NET_RAWSOCK;
				else
					op = CELL_OP_NET_SOCKET;
				break;
			}
			break;
		case KAUTH_REQ_NETWORK_SOCKET_RAWSOCK:
			op = CELL_OP_NET_RAWSOCK;
			break;
		case KAUTH_REQ_NETWORK_SOCKET_CANSEE:
			op = CELL_OP_NET_SOCKET_CANSEE;
			so = arg1;
			break;
		case KAUTH_REQ_NETWORK_SOCKET_DROP:
		case KAUTH_REQ_NETWORK_SOCKET_SETPRIV:
			op = CELL_OP_NET_SOCKET_PRIV;
			break;
		default:
			op = CELL_OP_NET_UNKNOWN;
			break;
		}
		break;

	case KAUTH_NETWORK_ALTQ:
	case KAUTH_NETWORK_FIREWALL:
	case KAUTH_NETWORK_INTERFACE:
	case KAUTH_NETWORK_FORWSRCRT:
	case KAUTH_NETWORK_NFS:
	case KAUTH_NETWORK_ROUTE:
	case KAUTH_NETWORK_INTERFACE_PPP:
	case KAUTH_NETWORK_INTERFACE_SLIP:
	case KAUTH_NETWORK_INTERFACE_STRIP:
	case KAUTH_NETWORK_INTERFACE_TUN:
	case KAUTH_NETWORK_INTERFACE_BRIDGE:
	case KAUTH_NETWORK_IPSEC:
	case KAUTH_NETWORK_INTERFACE_PVC:
	case KAUTH_NETWORK_IPV6:
	case KAUTH_NETWORK_SMB:
	case KAUTH_NETWORK_INTERFACE_WG:
		op = CELL_OP_NET_ADMIN;
		break;

	default:
		op = CELL_OP_NET_UNKNOWN;
		break;
	}

	cell_subject(cred, &subj);
	if (!cell_subject_unrestricted(&subj)) {
		if (so != NULL)
			obj.co_handle = cell_cred_handle(so->so_cred);
		result = cell_verdict(&subj, CELL_SCOPE_NETWORK, op, &obj,
		    action, (uint64_t)req);
	}

	return result;
}

/*
 * Device scope.  KAUTH_DEVICE_TTY_OPEN is asked by ptsopen() with the
 * tty_lock spin mutex held, where reading the credential's key (an
 * adaptive mutex inside specificdata) is not allowed; its row is DEFER in
 * every profile (checked at load by cell_kauth_selfcheck()), so it is
 * answered without a lookup.  Only RAWIO_SPEC passes a request in arg0;
 * the other actions pass pointers, which are not recorded.
 */
static int
cell_device_cb(kauth_cred_t cred, kauth_action_t action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	struct cell_subject subj;
	uint64_t request;
	bool lookup;
	int result;

	result = KAUTH_RESULT_DEFER;
	request = 0;
	lookup = true;

	switch (action) {
	case KAUTH_DEVICE_TTY_OPEN:
		lookup = false;
		break;

	case KAUTH_DEVICE_RAWIO_SPEC:
		request = (uint64_t)(uintptr_t)arg0;
		break;

	default:
		break;
	}

	if (lookup) {
		cell_subject(cred, &subj);
		if (!cell_subject_unrestricted(&subj))
			result = cell_verdict(&subj, CELL_SCOPE_DEVICE,
			    CELL_OP_DEV_ANY, NULL, action, request);
	}

	return result;
}

/*
 * Machdep scope: every action is host hardware.
 */
static int
cell_machdep_cb(kauth_cred_t cred, kauth_action_t action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	struct cell_subject subj;
	int result;

	result = KAUTH_RESULT_DEFER;

	switch (action) {
	default:
		break;
	}

	cell_subject(cred, &subj);
	if (!cell_subject_unrestricted(&subj))
		result = cell_verdict(&subj, CELL_SCOPE_MACHDEP, CELL_OP_MD_ANY,
		    NULL, action, 0);

	return result;
}

/*
 * Credential scope: keep the cell handle with the credential (row
 * cred.any: always ALLOW, which kauth_cred_hook() asserts on DIAGNOSTIC
 * kernels).  Credentials are not counted: files and sockets keep theirs
 * long after their process is gone, so members are processes, and
 * destroy looks for them (cell_sysctl.c).  A handle that outlives its
 * cell names no cell from then on (core/cell_impl.h).
 *
 *	COPY	cred is the source, arg0 the destination: the destination
 *		takes the source's handle.  Host credentials are never
 *		written, so the key's storage is only allocated for
 *		credentials of cells.
 *	INIT	a credential allocated by a process in a cell will almost
 *		always receive a copy of that cell's credential
 *		(do_setresuid(), kauth_proc_setgroups(), exec), and those
 *		copies run under p_lock.  Storing NULL now, in the
 *		sleepable context of kauth_cred_alloc() (pool_cache_get()
 *		with PR_WAITOK), allocates the key's container here, so
 *		the store in COPY takes the fast path and never allocates.
 *		The LWP's cached l_cred lags p_cred after another LWP of
 *		the process changed it (LW_CACHECRED, refreshed at
 *		userret), so a pending change counts too; only the
 *		pointer is compared.  l_cred is NULL while proc0 is set
 *		up, which reads as the host.
 *	FORK	the child shares the parent's credential: no change.
 *	FREE, CHROOT: nothing to do.
 */
static int
cell_cred_cb(kauth_cred_t cred, kauth_action_t action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	kauth_cred_t dst;
	struct lwp *l;
	uint32_t handle;
	int result;

	result = KAUTH_RESULT_ALLOW;

	switch (action) {
	case KAUTH_CRED_COPY:
		dst = arg0;
		handle = cell_cred_handle(cred);
		if (handle != cell_cred_handle(dst))
			kauth_cred_setdata(dst, secmodel_cell_key,
			    (void *)(uintptr_t)handle);
		break;

	case KAUTH_CRED_INIT:
		l = curlwp;
		if (cell_cred_handle(l->l_cred) != 0 ||
		    atomic_load_relaxed(&l->l_proc->p_cred) != l->l_cred)
			kauth_cred_setdata(cred, secmodel_cell_key, NULL);
		break;

	case KAUTH_CRED_FREE:
	case KAUTH_CRED_FORK:
	case KAUTH_CRED_CHROOT:
	default:
		break;
	}

	return result;
}

/*
 * Listen on every scope, the credential scope first so that no
 * credential can be tagged before its copies carry the tag.
 */
int
cell_kauth_start(void)
{

	cell_l_cred = kauth_listen_scope(KAUTH_SCOPE_CRED, cell_cred_cb,
	    NULL);
	if (cell_l_cred == NULL)
		goto fail;
	cell_l_process = kauth_listen_scope(KAUTH_SCOPE_PROCESS,
	    cell_process_cb, NULL);
	if (cell_l_process == NULL)
		goto fail;
	cell_l_system = kauth_listen_scope(KAUTH_SCOPE_SYSTEM,
	    cell_system_cb, NULL);
	if (cell_l_system == NULL)
		goto fail;
	cell_l_network = kauth_listen_scope(KAUTH_SCOPE_NETWORK,
	    cell_network_cb, NULL);
	if (cell_l_network == NULL)
		goto fail;
	cell_l_device = kauth_listen_scope(KAUTH_SCOPE_DEVICE,
	    cell_device_cb, NULL);
	if (cell_l_device == NULL)
		goto fail;
	cell_l_machdep = kauth_listen_scope(KAUTH_SCOPE_MACHDEP,
	    cell_machdep_cb, NULL);
	if (cell_l_machdep == NULL)
		goto fail;
	return 0;

fail:
	printf("secmodel_cell: kauth_listen_scope failed\n");
	cell_kauth_stop();
	return ENOENT;
}

/* Undo cell_kauth_start(), whatever part of it succeeded. */
void
cell_kauth_stop(void)
{

	kauth_unlisten_scope(cell_l_machdep);
	cell_l_machdep = NULL;
	kauth_unlisten_scope(cell_l_device);
	cell_l_device = NULL;
	kauth_unlisten_scope(cell_l_network);
	cell_l_network = NULL;
	kauth_unlisten_scope(cell_l_system);
	cell_l_system = NULL;
	kauth_unlisten_scope(cell_l_process);
	cell_l_process = NULL;
	kauth_unlisten_scope(cell_l_cred);
	cell_l_cred = NULL;
}

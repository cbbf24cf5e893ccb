/*	$NetBSD$	*/

/*
 * cell_policy.c -- the policy matrix and the decision function.
 *
 * The table is cell_policy.def expanded once; cell_decide() is the pure
 * answer to "may this subject do this operation to this object".  It takes
 * no lock, allocates nothing and costs the same with any number of cells:
 * the subject's record is one array index away and the port owner map one
 * more.  The kernel listeners reach it through cell_check() (cell_audit.c).
 */

#include "cell_impl.h"

#define	CELL_C_CROSS	CELL_CLASS_CROSS
#define	CELL_C_PROFILE	CELL_CLASS_PROFILE
#define	CELL_C_BIND	CELL_CLASS_BIND
#define	CELL_C_ALLOW	CELL_CLASS_ALLOW
#define	CELL_V_DEFER	CELL_DEFER
#define	CELL_V_DENY	CELL_DENY
#define	CELL_V_ALLOW	CELL_ALLOW

struct cell_opdef {
	const char	*od_name;
	const char	*od_doc;
	uint8_t		od_scope;
	uint8_t		od_class;
	uint8_t		od_col[3];	/* low, medium, high */
	uint32_t	od_relax;
};

static const struct cell_opdef cell_ops[CELL_OP_COUNT] = {
#define	CELL_OP(e, s, n, c, l, m, h, r, d)				\
	[CELL_OP_##e] = { n, d, CELL_SCOPE_##s, CELL_C_##c,		\
	    { CELL_V_##l, CELL_V_##m, CELL_V_##h }, r },
#include "cell_policy.def"
#undef	CELL_OP
};

static const char *const cell_reasons[CELL_R_COUNT] = {
	[CELL_R_HOST_ROOT] = "host_root",
	[CELL_R_HOST] = "host",
	[CELL_R_SAME_CELL] = "same_cell",
	[CELL_R_CROSS_CELL] = "cross_cell",
	[CELL_R_INTO_CELL] = "into_cell",
	[CELL_R_PROFILE_DEFER] = "profile_defer",
	[CELL_R_PROFILE_DENY] = "profile_deny",
	[CELL_R_OVERRIDE] = "override",
	[CELL_R_PORT_FREE] = "port_free",
	[CELL_R_PORT_OWNED] = "port_owned",
	[CELL_R_BIND_ADDR] = "bind_addr",
	[CELL_R_UNKNOWN_OP] = "unknown_op",
	[CELL_R_BAD_PROFILE] = "bad_profile",
	[CELL_R_BAD_HANDLE] = "bad_handle",
	[CELL_R_CRED] = "cred",
};

static const char *const cell_scopes[CELL_SCOPE_COUNT] = {
	[CELL_SCOPE_PROCESS] = "process",
	[CELL_SCOPE_SYSTEM] = "system",
	[CELL_SCOPE_NETWORK] = "network",
	[CELL_SCOPE_DEVICE] = "device",
	[CELL_SCOPE_MACHDEP] = "machdep",
	[CELL_SCOPE_CRED] = "cred",
};

static const struct cell_object cell_noobject;

unsigned
cell_op_count(void)
{

	return CELL_OP_COUNT;
}

const char *
cell_op_name(unsigned op)
{

	return op < CELL_OP_COUNT ? cell_ops[op].od_name : "unknown";
}

const char *
cell_op_doc(unsigned op)
{

	return op < CELL_OP_COUNT ? cell_ops[op].od_doc : "";
}

/* The row's CELL_SCOPE_*, or -1 outside the table. */
int
cell_op_scope(unsigned op)
{

	return op < CELL_OP_COUNT ? cell_ops[op].od_scope : -1;
}

/* The row's CELL_CLASS_*, or -1 outside the table. */
int
cell_op_class(unsigned op)
{

	return op < CELL_OP_COUNT ? cell_ops[op].od_class : -1;
}

/*
 * The profile column of a row: CELL_DEFER, CELL_DENY or CELL_ALLOW.  CROSS
 * rows say DENY (meaning: across cells), BIND rows DEFER.  An operation or
 * profile outside the table is DENY.
 */
int
cell_op_default(unsigned op, unsigned profile)
{

	if (op >= CELL_OP_COUNT || profile < CELL_PROFILE_LOW ||
	    profile > CELL_PROFILE_HIGH)
		return CELL_DENY;
	return cell_ops[op].od_col[profile - CELL_PROFILE_LOW];
}

uint32_t
cell_op_relax(unsigned op)
{

	return op < CELL_OP_COUNT ? cell_ops[op].od_relax : 0;
}

/* The row named name ("process.signal"), or -1. */
int
cell_op_lookup(const char *name)
{
	size_t len, olen;
	unsigned op;

	if (name == NULL)
		return -1;
	len = cell_strnlen(name, CELL_NAME_MAX);
	for (op = 0; op < CELL_OP_COUNT; op++) {
		olen = cell_strnlen(cell_ops[op].od_name, CELL_NAME_MAX);
		if (olen == len && cell_memcmp(name, cell_ops[op].od_name,
		    len) == 0)
			return (int)op;
	}
	return -1;
}

const char *
cell_reason_name(unsigned reason)
{

	return reason < CELL_R_COUNT ? cell_reasons[reason] : "unknown";
}

const char *
cell_scope_name(unsigned scope)
{

	return scope < CELL_SCOPE_COUNT ? cell_scopes[scope] : "unknown";
}

/* Whether a celled record may bind the object's address. */
static int
cell_bind_addr_ok(const struct cell_rec *rec, const struct cell_object *obj)
{
	const struct cell_addr *ca;
	size_t alen;
	uint32_t i;

	if (obj->co_family == CELL_AF_INET)
		alen = 4;
	else if (obj->co_family == CELL_AF_INET6)
		alen = 16;
	else
		return 0;
	for (i = 0; i < alen; i++)
		if (obj->co_addr[i] != 0)
			break;
	/*
	 * The wildcard reaches every address, so it is refused for a fixed
	 * port.  With port 0 it is what connect(2) on an unbound socket
	 * asks for (an ephemeral port, source address chosen by routing);
	 * refusing it would cut the cell off from outbound connections.
	 */
	if (i == alen)
		return obj->co_port == 0;
	for (i = 0; i < rec->c_naddrs && i < CELL_ADDRS_MAX; i++) {
		ca = &rec->c_addrs[i];
		if (ca->ca_family == obj->co_family &&
		    cell_memcmp(ca->ca_addr, obj->co_addr, alen) == 0)
			return 1;
	}
	return 0;
}

/*
 * The decision.  Order matters and is part of the contract:
 *  1. an operation outside the table is DENY (unknown_op);
 *  2. a non-zero subject handle naming no live cell is DENY (bad_handle),
 *     whatever the row (the kernel's credential listener answers ALLOW
 *     without asking, as kauth requires); so is one whose cell was
 *     destroyed while the decision read it (checked again at the end);
 *  3. credential bookkeeping is ALLOW for every real subject (cred);
 *  4. host root is never restricted: DEFER (host_root);
 *  5. the row's class decides.
 */
int
cell_decide(struct cell_core *core, const struct cell_subject *subj,
    unsigned op, const struct cell_object *obj, uint32_t *reasonp)
{
	const struct cell_opdef *od;
	const struct cell_rec *rec;
	uint32_t reason, owner, profile;
	int verdict;

	if (obj == NULL)
		obj = &cell_noobject;
	rec = NULL;
	if (op >= CELL_OP_COUNT) {
		verdict = CELL_DENY;
		reason = CELL_R_UNKNOWN_OP;
		goto out;
	}
	od = &cell_ops[op];
	if (subj->cs_handle != 0) {
		rec = cell_rec_get(core, subj->cs_handle);
		if (rec == NULL) {
			verdict = CELL_DENY;
			reason = CELL_R_BAD_HANDLE;
			goto out;
		}
	}
	if (od->od_class == CELL_CLASS_ALLOW) {
		verdict = CELL_ALLOW;
		reason = CELL_R_CRED;
		goto out;
	}
	if (subj->cs_handle == 0 && subj->cs_euid == 0) {
		verdict = CELL_DEFER;
		reason = CELL_R_HOST_ROOT;
		goto out;
	}

	switch (od->od_class) {
	case CELL_CLASS_CROSS:
		if (rec == NULL) {
			verdict = obj->co_handle != 0 ? CELL_DENY : CELL_DEFER;
			reason = obj->co_handle != 0 ?
			    CELL_R_INTO_CELL : CELL_R_HOST;
		} else if (obj->co_handle == subj->cs_handle) {
			verdict = CELL_DEFER;
			reason = CELL_R_SAME_CELL;
		} else {
			verdict = CELL_DENY;
			reason = CELL_R_CROSS_CELL;
		}
		break;
	case CELL_CLASS_PROFILE:
		if (rec == NULL) {
			verdict = CELL_DEFER;
			reason = CELL_R_HOST;
			break;
		}
		profile = rec->c_profile;
		if (profile < CELL_PROFILE_LOW || profile > CELL_PROFILE_HIGH) {
			verdict = CELL_DENY;
			reason = CELL_R_BAD_PROFILE;
			break;
		}
		verdict = od->od_col[profile - CELL_PROFILE_LOW];
		if (verdict == CELL_DENY) {
			if (od->od_relax != 0 &&
			    (rec->c_flags & od->od_relax) != 0) {
				verdict = CELL_DEFER;
				reason = CELL_R_OVERRIDE;
			} else
				reason = CELL_R_PROFILE_DENY;
		} else {
			verdict = CELL_DEFER;
			reason = CELL_R_PROFILE_DEFER;
		}
		break;
	case CELL_CLASS_BIND:
		owner = obj->co_port == 0 ? 0 :
		    cell_load_32(&core->cc_owner[obj->co_port]);
		if (rec == NULL) {
			verdict = owner != 0 ? CELL_DENY : CELL_DEFER;
			reason = owner != 0 ? CELL_R_PORT_OWNED : CELL_R_HOST;
		} else if (owner != 0 && owner != rec->c_id) {
			verdict = CELL_DENY;
			reason = CELL_R_PORT_OWNED;
		} else if (rec->c_naddrs > 0 && !cell_bind_addr_ok(rec, obj)) {
			verdict = CELL_DENY;
			reason = CELL_R_BIND_ADDR;
		} else {
			verdict = CELL_DEFER;
			reason = CELL_R_PORT_FREE;
		}
		break;
	default:
		/* A class this code does not know: fail closed. */
		verdict = CELL_DENY;
		reason = CELL_R_UNKNOWN_OP;
		break;
	}
out:
	if (rec != NULL && !cell_rec_still(rec, subj->cs_handle)) {
		verdict = CELL_DENY;
		reason = CELL_R_BAD_HANDLE;
	}
	if (reasonp != NULL)
		*reasonp = reason;
	return verdict;
}

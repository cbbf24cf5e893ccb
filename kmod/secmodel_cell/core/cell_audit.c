/*	$NetBSD$	*/

/*
 * cell_audit.c -- what happens after a DENY: counters, the audit ring and
 * the deny log rate limit.
 *
 * cell_check() is the kauth listeners' entry into the core.  Everything
 * here is lock-free and allocation-free, so it may run in any listener.
 *
 * A DENY costs two atomic increments: its counter and the audit ring's
 * head.  The ring keeps the last CELL_AUDIT_RING events.  A writer takes
 * a sequence number with one atomic increment, marks its slot invalid
 * (seq 0), writes the event in place and publishes the slot's seq;
 * readers copy a slot and keep it only if its seq was the wanted one
 * before and after the copy (a sequence lock per slot), so a torn or
 * overwritten slot is skipped, never returned.
 */

#include "cell_impl.h"

/*
 * Claim the next slot: returns it, invalidated, with its seq in *seqp.
 * The caller writes every field and calls cell_audit_commit().
 */
struct cell_event *
cell_audit_begin(struct cell_core *core, uint64_t *seqp)
{
	struct cell_audit_slot *slot;
	uint64_t seq;

	seq = cell_atomic_inc_64_nv(&core->cc_audit_head);
	slot = &core->cc_audit[(seq - 1) & (CELL_AUDIT_RING - 1)];
	cell_store_64(&slot->as_seq, 0);
	cell_membar_producer();
	*seqp = seq;
	return &slot->as_ev;
}

/* Publish a slot filled after cell_audit_begin(). */
void
cell_audit_commit(struct cell_core *core, struct cell_event *ev,
    uint64_t seq)
{
	struct cell_audit_slot *slot;

	slot = &core->cc_audit[(seq - 1) & (CELL_AUDIT_RING - 1)];
	ev->ev_seq = seq;
	cell_membar_producer();
	cell_store_64(&slot->as_seq, seq);
}

/*
 * Copy up to n events with seq >= since (and still in the ring), oldest
 * first; returns how many.  Pass the last seq seen + 1 to follow.
 */
size_t
cell_events(struct cell_core *core, uint64_t since, struct cell_event *buf,
    size_t n)
{
	struct cell_audit_slot *slot;
	uint64_t head, seq, s1, s2;
	size_t got;

	if (buf == NULL)
		return 0;
	head = cell_load_64(&core->cc_audit_head);
	cell_membar_consumer();
	seq = head > CELL_AUDIT_RING ? head - CELL_AUDIT_RING + 1 : 1;
	if (since > seq)
		seq = since;
	for (got = 0; seq <= head && got < n; seq++) {
		slot = &core->cc_audit[(seq - 1) & (CELL_AUDIT_RING - 1)];
		s1 = cell_load_64(&slot->as_seq);
		cell_membar_consumer();
		cell_memcpy(&buf[got], &slot->as_ev, sizeof(buf[got]));
		cell_membar_consumer();
		s2 = cell_load_64(&slot->as_seq);
		if (s1 == seq && s2 == seq && buf[got].ev_seq == seq)
			got++;
	}
	return got;
}

/*
 * Decide, and on DENY count the denial (the subject's cell, the host, or
 * "no such cell") and append an audit event.  An operation outside the
 * table has no scope: its event says scope CELL_SCOPE_COUNT ("unknown")
 * and no per-scope counter moves.  A subject handle naming no cell has
 * its event name cell 0 (the reason says bad_handle).
 */
int
cell_check(struct cell_core *core, const struct cell_subject *subj,
    unsigned op, const struct cell_object *obj, uint64_t action,
    uint64_t request, uint64_t now)
{
	struct cell_event *ev;
	struct cell_rec *rec;
	uint64_t seq;
	uint32_t reason, target;
	int verdict, scope, class;

	verdict = cell_decide(core, subj, op, obj, &reason);
	if (verdict != CELL_DENY)
		return verdict;

	scope = cell_op_scope(op);
	class = cell_op_class(op);
	target = 0;
	if (obj != NULL && class == CELL_CLASS_CROSS)
		target = cell_handle_id(core, obj->co_handle);
	else if (obj != NULL && class == CELL_CLASS_BIND && obj->co_port != 0)
		target = cell_port_owner(core, obj->co_port);
	rec = cell_rec_get(core, subj->cs_handle);
	if (scope >= 0) {
		if (rec != NULL)
			cell_atomic_inc_64(&rec->c_denies[scope]);
		else if (subj->cs_handle == 0)
			cell_atomic_inc_64(&core->cc_host_denies[scope]);
		else
			cell_atomic_inc_64(&core->cc_stray_denies[scope]);
	}

	ev = cell_audit_begin(core, &seq);
	ev->ev_time = now;
	ev->ev_cell = rec != NULL ? rec->c_id : 0;
	ev->ev_target = target;
	ev->ev_euid = subj->cs_euid;
	ev->ev_scope = scope < 0 ? CELL_SCOPE_COUNT : (uint16_t)scope;
	ev->ev_op = (uint16_t)(op > UINT16_MAX ? UINT16_MAX : op);
	ev->ev_reason = reason;
	ev->ev_pad = 0;
	ev->ev_action = action;
	ev->ev_request = request;
	cell_audit_commit(core, ev, seq);
	return verdict;
}

/*
 * Non-zero if a deny log line for scope may be printed at now_sec: at most
 * CELL_LOG_PER_SEC per scope and second.  The window is one word, the
 * second in the high 56 bits and the lines printed in the low 8, moved
 * with compare-and-swap.  Refused lines are counted in st_log_suppressed.
 */
int
cell_log_ratecheck(struct cell_core *core, unsigned scope, uint64_t now_sec)
{
	uint64_t *window, old, new, sec;

	if (scope >= CELL_SCOPE_MAX) {
		cell_atomic_inc_64(&core->cc_log_suppressed);
		return 0;
	}
	window = &core->cc_log_window[scope];
	sec = now_sec & (UINT64_MAX >> 8);
	for (;;) {
		old = cell_load_64(window);
		if ((old >> 8) != sec)
			new = (sec << 8) | 1;
		else if ((old & 0xff) >= CELL_LOG_PER_SEC) {
			cell_atomic_inc_64(&core->cc_log_suppressed);
			return 0;
		} else
			new = old + 1;
		if (cell_atomic_cas_64(window, old, new) == old)
			return 1;
	}
}

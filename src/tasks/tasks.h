/*
 * The tasks' life in a server (docs/tasks.md): the open tasks of every
 * doctor in memory, so that an event costs one hash probe when its doctor
 * has none; the automatic fulfilment of a task by the event that does what
 * it asks; the chained field visit when an online invitation is answered;
 * and the expiry of tasks left overdue.
 *
 * The event index's listener (engine/evindex.h) only notes the events of
 * doctors with open tasks; a thread of the module's own matches them
 * (reading the event's row when its content or meeting decides), and
 * writes through the writer. The same thread expires tasks every second
 * and follows the tasks table (updated_at), so that tasks another node
 * created or changed are matched here too; events from other nodes come
 * through the same listener.
 *
 * Lifecycle: mr_tasks_new → mr_tasks_follow (before the event index loads)
 * → mr_tasks_start (once the writer runs) → ... → mr_tasks_stop (before
 * the writer stops) → mr_tasks_free. Thread-safe.
 */
#ifndef MR_TASKS_TASKS_H
#define MR_TASKS_TASKS_H

#include <stdint.h>

#include "store/store.h"

struct mr_tasks;
struct mr_evindex;
struct mr_writer;

struct mr_tasks_stats {
	int ready;              /* the open tasks are loaded */
	int64_t open;           /* open tasks held */
	int64_t heard;          /* events noted for matching (their doctor had open tasks) */
	int64_t fulfilled;      /* tasks this process marked done */
	int64_t chained;        /* visit tasks it created from answered invitations */
	int64_t expired;        /* tasks it expired */
};

struct mr_tasks *mr_tasks_new(struct mr_evindex *x);
/* Stops the thread if running and frees t (NULL is fine). */
void mr_tasks_free(struct mr_tasks *t);
/* Registers the event index's listener. */
void mr_tasks_follow(struct mr_tasks *t);
/* Loads the open tasks and starts the thread, which writes through w. */
void mr_tasks_start(struct mr_tasks *t, struct mr_store *store, struct mr_writer *w);
/* Stops the thread (call it before the writer stops). */
void mr_tasks_stop(struct mr_tasks *t);
/*
 * Task id was created or changed by this process: its row is read again
 * (on c, or a pooled connection when c is NULL) and the open set updated.
 */
void mr_tasks_changed(struct mr_tasks *t, struct mr_conn *c, int64_t id);
/* Runs the expiry now (the thread does it every second). */
void mr_tasks_kick(struct mr_tasks *t);
void mr_tasks_stats(struct mr_tasks *t, struct mr_tasks_stats *out);

#endif

/* queue.h — the open candidates of a running job, in memory: the queued ones in lease
 * order (requeued ones first, in the order they came back, then fresh ones in id order)
 * and the leased ones with their lease, plus the job's active leases and how many of
 * their candidates are still open.
 *
 * In the database an open candidate keeps status 'queued' whether it is leased or not:
 * a lease writes one lease row whose `items` is the JSON array of its candidate ids and
 * rewrites no candidate row. "leased" is derived (a queued candidate in an active
 * lease), and this structure is rebuilt from both tables when the job is loaded. Each
 * item carries its candidate's lease payload object, rendered once when it is proposed
 * or loaded, so granting a lease is a copy. */
#ifndef MN_QUEUE_H
#define MN_QUEUE_H
#include <stddef.h>
#include <stdint.h>

struct mn_queue_item {
    int64_t id;
    int64_t lease_id; /* 0: queued */
    int attempts;     /* attempts that ended without a result (failed or expired) */
    const char *key;  /* the candidate's canonical key (stored after json) */
    size_t len;       /* of json */
    char json[];      /* {"id":…,"key":…,"arch":…}, the candidate in a lease payload */
};

struct mn_queue;

/* An empty queue, or NULL. Free with mn_queue_free (NULL allowed). */
struct mn_queue *mn_queue_new(void);
void mn_queue_free(struct mn_queue *q);

/* Adds open candidate id with its canonical key and payload text (both copied): at the
 * back of the queue when lease_id is 0, else as a candidate of active lease lease_id
 * (loading a job). Returns 0 or MN_ENOMEM. Ids must be new to the queue. */
int mn_queue_add(struct mn_queue *q, int64_t id, int attempts, const char *key,
                 const char *json, size_t len, int64_t lease_id);
/* The open item of candidate id, or NULL (finished, rejected, or not of this job). */
struct mn_queue_item *mn_queue_get(const struct mn_queue *q, int64_t id);
/* Leases up to want queued items, front first, to lease_id (a new lease): out[] gets
 * them. Returns their number, or MN_ENOMEM. */
int mn_queue_take(struct mn_queue *q, int64_t lease_id, int want, struct mn_queue_item **out);
/* Detaches it from its lease and queues it again, ahead of fresh candidates. Returns the lease
 * id when that lease has no open candidate left (it is forgotten), 0, or MN_ENOMEM
 * (nothing changed). */
int64_t mn_queue_requeue(struct mn_queue *q, struct mn_queue_item *it);
/* Removes finished item it (freed). Returns the lease id when that lease has no open
 * candidate left (it is forgotten), else 0. */
int64_t mn_queue_finish(struct mn_queue *q, struct mn_queue_item *it);
/* The open items of lease lease_id (an expired or released lease) in lease order, at
 * most max into out (out may be NULL); returns their number. */
int mn_queue_lease_items(const struct mn_queue *q, int64_t lease_id, struct mn_queue_item **out,
                         int max);
/* Forgets lease lease_id (after its items were requeued or finished). */
void mn_queue_lease_end(struct mn_queue *q, int64_t lease_id);

/* Open candidates: queued (not leased) and leased. */
int64_t mn_queue_queued(const struct mn_queue *q);
int64_t mn_queue_leased(const struct mn_queue *q);

#endif

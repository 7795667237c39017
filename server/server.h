/* server.h — the monasd context passed to every module: the database, the loaded
 * jobs, configuration, tokens and metrics, and the lock that serialises all database
 * work (the single writer path). HTTP threads take the lock only around database
 * work; JSON parsing and formatting happen outside it. */
#ifndef MN_SERVER_H
#define MN_SERVER_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "files.h"

/* Schemas, migrations and dashboard assets embedded at build time. */
extern const struct mn_file mn_server_files[];

struct mn_store;
struct mn_jobs;
struct mn_config;
struct mn_auth;
struct mn_metrics;

struct mn_server {
    pthread_mutex_t lock;    /* held for every use of store and jobs */
    pthread_cond_t changed;  /* broadcast when a job changes status (long polls) */
    struct mn_store *store;
    struct mn_jobs *jobs;
    const struct mn_config *cfg;
    struct mn_auth *auth;
    struct mn_metrics *metrics;
    int64_t rr_last;         /* last job leased from: round robin over running jobs */
    int64_t lease_last;      /* id of the newest lease (0: not read yet), under lock */
    /* group commit (txn.c), all under lock except txn_waiting */
    atomic_int txn_waiting;  /* writers waiting for the lock */
    int txn_open, txn_members, commit_rc;
    uint64_t txn_gen, committed_gen;
    pthread_cond_t committed; /* broadcast after each commit */
    int stopping;            /* set under lock at shutdown: long polls return */
};

#endif

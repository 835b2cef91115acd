/* Bounded parallel transfers: n jobs on at most opts.parallel threads, each
 * with its own connection (keep-alive per thread).  The first failure stops
 * the others from starting new jobs and is the one reported. */
#ifndef DS_REGISTRY_POOL_H
#define DS_REGISTRY_POOL_H

#include "registry/client.h"

typedef int (*reg_job_fn)(ds_reg_conn *c, size_t i, void *data, ds_error *err);

/* Runs on main (this thread) when one thread is enough. */
int reg_parallel(ds_reg_conn *main, size_t n, reg_job_fn fn, void *data, ds_error *err);

#endif

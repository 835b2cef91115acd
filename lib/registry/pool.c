#include <pthread.h>

#include "registry/pool.h"
#include "util/util.h"

typedef struct pool {
	ds_reg *reg;
	size_t n, next;
	reg_job_fn fn;
	void *data;
	pthread_mutex_t lock;
	int failed;
	ds_error err;
} pool;

static int take(pool *p, size_t *i)
{
	int ok = 0;
	pthread_mutex_lock(&p->lock);
	if (!p->failed && p->next < p->n) {
		*i = p->next++;
		ok = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

static void fail(pool *p, const ds_error *e)
{
	pthread_mutex_lock(&p->lock);
	if (!p->failed) {
		p->failed = 1;
		p->err = *e;
	}
	pthread_mutex_unlock(&p->lock);
}

static void *worker(void *arg)
{
	pool *p = arg;
	ds_reg_conn *c = NULL;
	ds_error e = DS_ERROR_INIT;
	size_t i;

	if (reg_conn_new(&c, p->reg, &e) < 0) {
		fail(p, &e);
		return NULL;
	}
	while (take(p, &i)) {
		if (p->fn(c, i, p->data, &e) < 0) {
			fail(p, &e);
			break;
		}
	}
	reg_conn_free(c);
	return NULL;
}

int reg_parallel(ds_reg_conn *main, size_t n, reg_job_fn fn, void *data, ds_error *err)
{
	size_t threads = (size_t)main->reg->o.parallel;
	pthread_t tids[REG_PARALLEL_MAX];
	size_t started = 0;
	pool p;

	if (threads > n)
		threads = n;
	if (threads <= 1) {
		for (size_t i = 0; i < n; i++)
			if (fn(main, i, data, err) < 0)
				return -1;
		return 0;
	}
	memset(&p, 0, sizeof(p));
	p.reg = main->reg;
	p.n = n;
	p.fn = fn;
	p.data = data;
	pthread_mutex_init(&p.lock, NULL);
	for (size_t t = 0; t < threads; t++) {
		if (pthread_create(&tids[t], NULL, worker, &p) != 0)
			break;
		started++;
	}
	if (started == 0) {
		/* no thread could start: do the work here */
		worker(&p);
	}
	for (size_t t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	pthread_mutex_destroy(&p.lock);
	if (p.failed) {
		if (err)
			*err = p.err;
		return -1;
	}
	return 0;
}

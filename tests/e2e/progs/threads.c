/*
 * threads: four threads in distinct functions; thread "gamma" crashes
 * once every thread has reached the barrier, so each one's frames are
 * known.  Frames of the crashing thread: crash_gamma, work_gamma,
 * thread_gamma.  Parked: park_alpha/thread_alpha, park_beta/thread_beta,
 * park_main/main.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_barrier_t all_parked;

static void park_forever(void)
{
	for (;;)
		pause();
}

static void park_alpha(void)
{
	pthread_barrier_wait(&all_parked);
	park_forever();
}

static void *thread_alpha(void *arg)
{
	park_alpha(); /* LINE:thread_alpha */
	return arg;
}

static void park_beta(void)
{
	pthread_barrier_wait(&all_parked);
	park_forever();
}

static void *thread_beta(void *arg)
{
	park_beta(); /* LINE:thread_beta */
	return arg;
}

static void crash_gamma(volatile int *where)
{
	*where = 7; /* LINE:crash_gamma */
}

static void work_gamma(void)
{
	pthread_barrier_wait(&all_parked);
	crash_gamma((volatile int *)0); /* LINE:work_gamma */
}

static void *thread_gamma(void *arg)
{
	work_gamma(); /* LINE:thread_gamma */
	return arg;
}

static void park_main(pthread_t gamma)
{
	pthread_barrier_wait(&all_parked);
	pthread_join(gamma, NULL);
}

int main(void)
{
	pthread_t alpha, beta, gamma;

	pthread_barrier_init(&all_parked, NULL, 4);
	if (pthread_create(&alpha, NULL, thread_alpha, NULL) ||
	    pthread_create(&beta, NULL, thread_beta, NULL) ||
	    pthread_create(&gamma, NULL, thread_gamma, NULL)) {
		fprintf(stderr, "threads: pthread_create failed\n");
		return 1;
	}
	park_main(gamma); /* LINE:main */
	return 0;
}

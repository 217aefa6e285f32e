/*
 * liveapp: three threads in known places, for packing a live process.
 * Threads alpha and beta park in their own functions; the main thread
 * waits in libcrash (crash_wait, reading stdin) and crashes there once a
 * byte arrives.  Frames: crash_wait, crash_deep (libcrash), main;
 * park_alpha/thread_alpha; park_beta/thread_beta.
 *
 * usage: liveapp   (prints "ready" when every thread is in place)
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "libcrash.h"

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

int main(void)
{
	pthread_t alpha, beta;

	pthread_barrier_init(&all_parked, NULL, 3);
	if (crash_variant() < 0 || pthread_create(&alpha, NULL, thread_alpha, NULL) ||
	    pthread_create(&beta, NULL, thread_beta, NULL)) {
		fprintf(stderr, "liveapp: cannot start\n");
		return 1;
	}
	pthread_barrier_wait(&all_parked);
	crash_deep(0); /* LINE:main */
	return 0;
}

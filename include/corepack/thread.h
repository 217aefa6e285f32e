/*
 * Worker threads of library code (the read pipe, the write-behind, the
 * file sink): started with every signal blocked, so that the front ends'
 * handlers always run in the main thread, which checks the cancel flag
 * they set.
 */
#ifndef COREPACK_THREAD_H
#define COREPACK_THREAD_H

#include <pthread.h>

/* pthread_create(T, NULL, FN, ARG) with every signal blocked in the new
 * thread; 0, or pthread_create()'s error number (positive). */
int cp_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif

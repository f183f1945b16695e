// C11 <threads.h> on top of pthreads, linked into every executable of a
// KLAG_TSAN build only (CMakeLists.txt; see docs/sanitizers.md).
//
// Why: Debian's librdkafka 2.0.2 is built with glibc's C11 threads
// (thrd_create, mtx_lock, cnd_wait, call_once, ...). glibc implements them by
// calling its internal __pthread_* functions directly, and the ThreadSanitizer
// runtimes we have (GCC 12's libtsan, clang 19's) do not intercept the C11
// names. So without this file:
//   - librdkafka's threads are unknown to TSan: the first intercepted call on
//     one (malloc inside getaddrinfo) dereferences a null thread state and the
//     process dies with SIGSEGV;
//   - librdkafka's mutexes and condition variables are invisible, so every
//     hand-over through them (its queues, our callbacks) would be reported
//     as a race.
// These definitions interpose on glibc's (an executable's dependencies are
// searched before libc.so.6) and forward to the pthread functions, which TSan
// does intercept. The behaviour is the same as glibc's own wrappers
// (nptl/thrd_create.c, mtx_*.c, cnd_*.c, call_once.c): on glibc thrd_t is a
// pthread_t, mtx_t a pthread_mutex_t, cnd_t a pthread_cond_t, once_flag a
// pthread_once_t.
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <pthread.h>

static_assert(sizeof(thrd_t) == sizeof(pthread_t));
static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(once_flag) == sizeof(pthread_once_t));

namespace {

int to_thrd(int err) {
  switch (err) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

struct Start {
  thrd_start_t func;
  void* arg;
};

void* trampoline(void* p) {
  Start s = *static_cast<Start*>(p);
  std::free(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(s.func(s.arg)));
}

pthread_mutex_t* pm(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* pc(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }

}  // namespace

extern "C" {

#define KLAG_EXPORT __attribute__((visibility("default")))

KLAG_EXPORT int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  auto* s = static_cast<Start*>(std::malloc(sizeof(Start)));
  if (s == nullptr) return thrd_nomem;
  *s = Start{func, arg};
  pthread_t t;
  int err = pthread_create(&t, nullptr, trampoline, s);
  if (err != 0) {
    std::free(s);
    return to_thrd(err);
  }
  *thr = t;
  return thrd_success;
}

KLAG_EXPORT int thrd_join(thrd_t thr, int* res) {
  void* ret = nullptr;
  int err = pthread_join(thr, &ret);
  if (err == 0 && res != nullptr) *res = static_cast<int>(reinterpret_cast<intptr_t>(ret));
  return to_thrd(err);
}

KLAG_EXPORT int thrd_detach(thrd_t thr) { return to_thrd(pthread_detach(thr)); }

KLAG_EXPORT void thrd_exit(int res) { pthread_exit(reinterpret_cast<void*>(static_cast<intptr_t>(res))); }

KLAG_EXPORT int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int err = pthread_mutex_init(pm(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return to_thrd(err);
}

KLAG_EXPORT int mtx_lock(mtx_t* m) { return to_thrd(pthread_mutex_lock(pm(m))); }
KLAG_EXPORT int mtx_trylock(mtx_t* m) { return to_thrd(pthread_mutex_trylock(pm(m))); }
KLAG_EXPORT int mtx_timedlock(mtx_t* __restrict m, const struct timespec* __restrict ts) {
  return to_thrd(pthread_mutex_timedlock(pm(m), ts));
}
KLAG_EXPORT int mtx_unlock(mtx_t* m) { return to_thrd(pthread_mutex_unlock(pm(m))); }
KLAG_EXPORT void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(pm(m)); }

KLAG_EXPORT int cnd_init(cnd_t* c) { return to_thrd(pthread_cond_init(pc(c), nullptr)); }
KLAG_EXPORT int cnd_signal(cnd_t* c) { return to_thrd(pthread_cond_signal(pc(c))); }
KLAG_EXPORT int cnd_broadcast(cnd_t* c) { return to_thrd(pthread_cond_broadcast(pc(c))); }
KLAG_EXPORT int cnd_wait(cnd_t* c, mtx_t* m) { return to_thrd(pthread_cond_wait(pc(c), pm(m))); }
KLAG_EXPORT int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m, const struct timespec* __restrict ts) {
  return to_thrd(pthread_cond_timedwait(pc(c), pm(m), ts));
}
KLAG_EXPORT void cnd_destroy(cnd_t* c) { pthread_cond_destroy(pc(c)); }

KLAG_EXPORT void call_once(once_flag* flag, void (*func)(void)) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), func);
}

}  // extern "C"

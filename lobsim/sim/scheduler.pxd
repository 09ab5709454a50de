# Types lobsim/sim/scheduler.py when Cython compiles it (pure-Python mode); see that module.

cimport cython

cdef class Scheduler:
    cdef public object now
    cdef public object env
    cdef public list _queue
    cdef public object _sequence
    cpdef call_later(self, object delay_ns, object fn, object arg=*)
    cpdef run_until(self, object until_ns)
    @cython.locals(queue=list, entry=tuple)
    cdef _run(self, object until_ns)

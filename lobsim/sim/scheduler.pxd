# Types lobsim/sim/scheduler.py when Cython compiles it (pure-Python mode); see that module.

cimport cython
from libc.stdint cimport int64_t

@cython.final
cdef class Sequence:
    cdef public int64_t value
    @cython.locals(value=int64_t)
    cpdef int64_t take(self)

@cython.final
@cython.freelist(256)
cdef class Call:
    cdef public int64_t time, sequence
    cdef public object fn, arg
    cpdef bint after_event(self, tuple entry) except -1

cdef class Scheduler:
    cdef public object now
    cdef public Sequence sequence
    cdef public object env
    cdef public list _calls
    @cython.locals(call=Call)
    cpdef call_later(self, object delay_ns, object fn, object arg=*)
    cpdef object next_call(self)
    @cython.locals(calls=list, queue=list, call=Call)
    cpdef bint run_next_call(self) except -1
    cpdef run_until(self, object until_ns)
    @cython.locals(calls=list, queue=list, call=Call, until=int64_t)
    cdef _run(self, object until_ns)
    @cython.locals(calls=list, i=Py_ssize_t, parent=Py_ssize_t, above=Call)
    cdef _push(self, Call call)
    @cython.locals(calls=list, first=Call, last=Call, earlier=Call, right=Call, n=Py_ssize_t,
                   i=Py_ssize_t, child=Py_ssize_t)
    cdef Call _pop(self)

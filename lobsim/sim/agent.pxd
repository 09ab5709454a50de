# Types lobsim/sim/agent.py when Cython compiles it (pure-Python mode); see that module.

cdef class Agent:
    cdef dict __dict__  # a user's subclass, or a test, may set any attribute
    cdef public str name
    cdef public object params
    cdef public object session
    cpdef on_start(self)
    cpdef on_market_data(self, object data)
    cpdef on_report(self, object report)
    cpdef on_timer(self, object tag)
    cpdef on_end(self)

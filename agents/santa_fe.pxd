# Types agents/santa_fe.py when Cython compiles it (pure-Python mode); see that module.

cimport cython
from agents.poisson cimport PoissonFlow
from lobsim.sim.gateway cimport Session

cdef class SantaFeTrader(PoissonFlow):
    cdef public object band
    cdef public tuple _fixed_rates  # read by the twin (agents/_cflow.pyx)
    cpdef object reference(self, object side)
    @cython.locals(session=Session)
    cpdef _limit(self, object side)

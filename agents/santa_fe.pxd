# Types agents/santa_fe.py when Cython compiles it (pure-Python mode); see that module.

from agents.poisson cimport PoissonFlow

cdef class SantaFeTrader(PoissonFlow):
    cdef public object band
    cdef public tuple _fixed_rates  # read by the twin (agents/_cflow.pyx)
    cpdef object reference(self, object side)
    cpdef _limit(self, object side)

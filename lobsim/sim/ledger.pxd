# Types lobsim/sim/ledger.py when Cython compiles it (pure-Python mode); see that module.

cdef class Ledger:
    cdef public list names, cash, inventory, fees, spread_capture2, fills, volume
    cdef public object fee_income
    cpdef fill(self, Py_ssize_t agent, object sign, object price, object qty, object mid2,
               object fee_per_lot)

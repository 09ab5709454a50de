# Types agents/tracking.py when Cython compiles it (pure-Python mode); see that module.

cimport cython

cdef class LiveOrder:
    cdef public object order_id, side, price, qty, pending_price
    cdef public bint accepted
    cdef public Py_ssize_t pending_modifies

cdef class LiveOrders:
    cdef public list _orders
    cdef public dict _index
    cdef public object position
    cpdef object add(self, object order_id, object side, object price, object qty)
    cpdef object get(self, object order_id)
    @cython.locals(order=LiveOrder, last=LiveOrder)
    cpdef object remove(self, object order_id)
    cpdef list pop_all(self)
    cpdef object choice(self, object rng)
    @cython.locals(order=LiveOrder)
    cpdef object apply(self, object report)

cdef class TopOfBook:
    cdef public object symbol, bid, ask, last_bid, last_ask, mid
    cpdef bint update(self, object data) except -1

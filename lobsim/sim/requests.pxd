# Types lobsim/sim/requests.py when Cython compiles it (pure-Python mode); see that module.

cimport cython

@cython.final
@cython.freelist(64)
cdef class Request:
    cdef public object session
    cdef public str op
    cdef public object order_id, symbol, side, price, qty, tif, post_only
    cpdef bint is_new_order(self)

@cython.locals(made=Request)
cpdef Request new_request(object session, str op, object order_id, object symbol=*, object side=*,
                          object price=*, object qty=*, object tif=*, object post_only=*)

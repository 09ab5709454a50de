# Types lobsim/units.py when Cython compiles it (pure-Python mode): compiled modules that
# cimport these call them in C.

cpdef object seconds_to_ns(object seconds)

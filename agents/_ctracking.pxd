# cython: language_level=3
"""What the compiled twins share of :mod:`agents.tracking`: ``TopOfBook``, restated as a
struct with inline functions (so this needs no module of its own)."""

from libc.stdint cimport int64_t

from lobsim.sim._cmarket cimport NONE, Item


cdef struct TopOfBook:
    int64_t bid  # ticks, NONE: that side is empty
    int64_t ask
    int64_t last_bid  # the latest non-empty value of each side; NONE: never seen
    int64_t last_ask
    double mid  # float ticks: the latest two-sided mid, the initial price until then


cdef inline void top_init(TopOfBook* top, int64_t initial_price) noexcept:
    top.bid = top.ask = top.last_bid = top.last_ask = NONE
    top.mid = <double>initial_price


cdef inline void top_update(TopOfBook* top, const Item* item) noexcept:
    """``TopOfBook.update`` of a quote item (the only market data the twins receive)."""
    top.bid, top.ask = item.bid, item.ask
    if item.bid != NONE:
        top.last_bid = item.bid
    if item.ask != NONE:
        top.last_ask = item.ask
        if item.bid != NONE:
            top.mid = <double>(item.bid + item.ask) / 2
